import pino from 'pino';
import { MessageTypes, createMessage, decodeMessage, type AnyMessage, type GatewayAdminActionRecordedV1 } from '@keyfleet/contracts';
import { GatewayException, GatewayExceptionCode, KeyDirectory } from '@keyfleet/gateway';
import type { OutgoingRecord, SpooledPublisher } from '@keyfleet/messaging';
import { AdminAudit } from '../admin/admin-audit';
import type { ClusterFleet } from '../clusters/cluster-fleet';
import { ControlEventHandler } from './control-event.handler';

const actor = { kind: 'service' as const, id: 'rotation-service' };

describe(ControlEventHandler.name, () => {
  let directory: KeyDirectory;
  let switched: { clusterId: string; change: object }[];
  let invalidated: string[];
  let submitted: OutgoingRecord[];
  /** The admin-action records the handler's audit trail wrote, decoded from what reached the spool. */
  const records = (): GatewayAdminActionRecordedV1[] =>
    submitted.map((r) => {
      const decoded = decodeMessage(r.value);
      if (!decoded.ok || decoded.message.type !== MessageTypes.GatewayAdminActionRecordedV1) throw new Error('not an admin-action record');
      return decoded.message.data;
    });
  let sut: ControlEventHandler;

  beforeEach(() => {
    directory = new KeyDirectory({
      rings: { main: { writeCluster: 'blue', weights: { blue: 90, green: 10 } } },
      keys: [{ alias: 'orders', ring: 'main', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT', currentVersion: 1, versions: [1, 2].map((v) => ({ version: v, label: `orders/v${v}`, clusters: ['blue', 'green'] })) }],
    });
    switched = [];
    invalidated = [];
    submitted = [];
    const cluster = (clusterId: string) => ({
      reconnect: (change: object) => {
        if (clusterId === 'green') return Promise.reject(new Error('secret store unreachable'));
        switched.push({ clusterId, change });
        return Promise.resolve();
      },
      invalidateKey: (label: string) => invalidated.push(`${clusterId}:${label}`),
    });
    const fleet = { get: (id: string) => (['blue', 'green'].includes(id) ? cluster(id) : undefined) } as unknown as ClusterFleet;
    const spool = { accepting: true, submit: (r: OutgoingRecord) => submitted.push(r) } as unknown as SpooledPublisher;
    const audit = new AdminAudit(spool, '');
    sut = new ControlEventHandler(directory, fleet, audit, pino({ level: 'silent' }));
  });

  const event = (message: Parameters<typeof createMessage>[0]) => createMessage(message) as AnyMessage;

  it('applies routing weights from migration-service and audits them with the publisher as caller', async () => {
    const outcome = await sut.apply(event({ type: MessageTypes.RoutingWeightsChangedV1, source: 'migration-service', subject: 'main', actor: { kind: 'service', id: 'migration-service' }, data: { ring: 'main', weights: { blue: 0, green: 100 } } }));

    expect(outcome).toBe('applied');
    expect(directory.rings()['main']?.weights).toEqual({ blue: 0, green: 100 });
    expect(records()).toEqual([expect.objectContaining({ action: 'set-routing-weights', caller: 'service:migration-service', outcome: 'ok' })]);
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
    expect(records().map((r) => r.outcome)).toEqual(['NOT_FOUND', 'NOT_FOUND']);
    expect(await sut.apply(event({ type: MessageTypes.KeyRegisteredV1, source: 'key-service', subject: 'k', actor, data: { alias: 'k', version: 1, keyType: 'aes-256', usage: ['encrypt-decrypt'], state: 'pending', label: 'k/v1' } }))).toBe('ignored');
  });

  it('lets a failure that is not a refusal through for a retry, recorded as UNAVAILABLE', async () => {
    await expect(sut.apply(event({ type: MessageTypes.CryptoUserSwitchedV1, source: 'rotation-service', subject: 'green', actor, data: { clusterId: 'green', secretId: 's' } }))).rejects.toThrow('secret store unreachable');

    expect(records()).toEqual([expect.objectContaining({ action: 'switch-crypto-user', clusterId: 'green', outcome: 'UNAVAILABLE' })]);
  });
});
