import pino from 'pino';
import { MessageTypes, createMessage, type AnyMessage, type GatewayAdminActionRecordedV1 } from '@keyfleet/contracts';
import { GatewayException, GatewayExceptionCode, KeyDirectory } from '@keyfleet/gateway';
import type { AdminAudit } from '../admin/admin-audit';
import type { ClusterFleet } from '../clusters/cluster-fleet';
import { ControlEventHandler } from './control-event.handler';

const actor = { kind: 'service' as const, id: 'rotation-service' };

describe(ControlEventHandler.name, () => {
  let directory: KeyDirectory;
  let switched: { clusterId: string; change: object }[];
  let invalidated: string[];
  let records: GatewayAdminActionRecordedV1[];
  let sut: ControlEventHandler;

  beforeEach(() => {
    directory = new KeyDirectory({
      rings: { main: { writeCluster: 'blue', weights: { blue: 90, green: 10 } } },
      keys: [{ alias: 'orders', ring: 'main', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT', currentVersion: 1, versions: [1, 2].map((v) => ({ version: v, label: `orders/v${v}`, clusters: ['blue', 'green'] })) }],
    });
    switched = [];
    invalidated = [];
    records = [];
    const cluster = (clusterId: string) => ({
      reconnect: (change: object) => {
        switched.push({ clusterId, change });
        return Promise.resolve();
      },
      invalidateKey: (label: string) => invalidated.push(`${clusterId}:${label}`),
    });
    const fleet = { get: (id: string) => (['blue', 'green'].includes(id) ? cluster(id) : undefined) } as unknown as ClusterFleet;
    const audit = { record: (r: GatewayAdminActionRecordedV1) => records.push(r) } as unknown as AdminAudit;
    sut = new ControlEventHandler(directory, fleet, audit, pino({ level: 'silent' }));
  });

  const event = (message: Parameters<typeof createMessage>[0]) => createMessage(message) as AnyMessage;

  it('applies routing weights from migration-service and audits them with the publisher as caller', async () => {
    const outcome = await sut.apply(event({ type: MessageTypes.RoutingWeightsChangedV1, source: 'migration-service', subject: 'main', actor: { kind: 'service', id: 'migration-service' }, data: { ring: 'main', weights: { blue: 0, green: 100 } } }));

    expect(outcome).toBe('applied');
    expect(directory.rings()['main']?.weights).toEqual({ blue: 0, green: 100 });
    expect(records).toEqual([expect.objectContaining({ action: 'set-routing-weights', caller: 'service:migration-service', outcome: 'ok' })]);
  });

  it('switches a cluster\'s pool to the credentials rotation-service names', async () => {
    await sut.apply(event({ type: MessageTypes.CryptoUserSwitchedV1, source: 'rotation-service', subject: 'blue', actor, data: { clusterId: 'blue', secretId: 'keyfleet/blue/standby', tokenLabel: 'blue/standby' } }));

    expect(switched).toEqual([{ clusterId: 'blue', change: { secretId: 'keyfleet/blue/standby', tokenLabel: 'blue/standby' } }]);
  });

  it('applies key state and drops the key\'s cached handles on every cluster', async () => {
    await sut.apply(event({ type: MessageTypes.KeyStateChangedV1, source: 'key-service', subject: 'orders', actor, data: { alias: 'orders', currentVersion: 2 } }));
    expect(directory.resolve('orders').version).toBe(2);
    expect(invalidated.sort()).toEqual(['blue:orders/v1', 'blue:orders/v2', 'green:orders/v1', 'green:orders/v2']);

    await sut.apply(event({ type: MessageTypes.KeyStateChangedV1, source: 'key-service', subject: 'orders', actor, data: { alias: 'orders', enabled: false } }));
    expect(() => directory.resolve('orders')).toThrow('key orders is disabled');
  });

  it('refuses what it cannot apply with a GatewayException (to be dead-lettered), audited as refused, and ignores events not meant for it', async () => {
    await expect(sut.apply(event({ type: MessageTypes.CryptoUserSwitchedV1, source: 'rotation-service', subject: 'red', actor, data: { clusterId: 'red', secretId: 's' } }))).rejects.toEqual(
      new GatewayException(GatewayExceptionCode.NotFound, 'no cluster red'),
    );
    await expect(sut.apply(event({ type: MessageTypes.RoutingWeightsChangedV1, source: 'migration-service', subject: 'x', actor, data: { ring: 'nope', weights: { blue: 1 } } }))).rejects.toMatchObject({
      code: GatewayExceptionCode.NotFound,
    });
    expect(records.map((r) => r.outcome)).toEqual(['NOT_FOUND', 'NOT_FOUND']);
    expect(await sut.apply(event({ type: MessageTypes.KeyRegisteredV1, source: 'key-service', subject: 'k', actor, data: { alias: 'k', version: 1, keyType: 'aes-256', usage: ['encrypt-decrypt'], state: 'pending', label: 'k/v1' } }))).toBe('ignored');
  });
});
