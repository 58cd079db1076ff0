import { decodeMessage, MessageTypes, Topics } from '@keyfleet/contracts';
import { MessagingException, MessagingExceptionCode, type OutgoingRecord, type SpooledPublisher } from '@keyfleet/messaging';
import { MetricsRegistry } from '@keyfleet/observability';
import { KafkaOperationAudit } from './kafka-operation-audit';

/** The spool as the audit sees it: records submitted, in order. */
function spoolSpy() {
  const submitted: OutgoingRecord[] = [];
  return { submitted, spool: { accepting: true, submit: (record: OutgoingRecord) => void submitted.push(record) } as unknown as SpooledPublisher };
}

/** The value of one series (`name`, or a histogram's `<name>_count` / `_bucket`), by its labels (0 when it has none yet). */
async function seriesValue(registry: MetricsRegistry, name: string, labels: Record<string, string>): Promise<number> {
  const values = (await registry.getMetricsAsJSON()).flatMap((m) => m.values.map((v) => ({ ...v, name: (v as { metricName?: string }).metricName ?? m.name })));
  const match = values.find((v) => v.name === name && Object.entries(labels).every(([k, l]) => String(v.labels[k]) === l));
  return match?.value ?? 0;
}

describe('KafkaOperationAudit', () => {
  it('counts and times every record in its own series, and submits it to the ops topic keyed by its subject', async () => {
    const registry = new MetricsRegistry('crypto-gateway');
    const { spool, submitted } = spoolSpy();
    const audit = new KafkaOperationAudit(spool, 'it.', registry);
    const base = { caller: 'spiffe://keyfleet.local/app/app-demo', keyAlias: 'orders', keyVersion: 2, clusterId: 'blue', attempts: 1, items: 1 };

    audit.record({ ...base, operation: 'encrypt', outcome: 'ok', latencyMicros: 800 });
    audit.record({ ...base, operation: 'encrypt', outcome: 'ok', latencyMicros: 1_500 });
    audit.record({ ...base, operation: 'encrypt', outcome: 'INVALID_ARGUMENT', latencyMicros: 90 });
    audit.record({ ...base, operation: 'decrypt', outcome: 'ok', latencyMicros: 30_000 });

    const ops = (labels: Record<string, string>) => seriesValue(registry, 'keyfleet_gateway_operations_total', labels);
    expect(await ops({ operation: 'encrypt', outcome: 'ok' })).toBe(2);
    expect(await ops({ operation: 'encrypt', outcome: 'INVALID_ARGUMENT' })).toBe(1);
    expect(await ops({ operation: 'decrypt', outcome: 'ok' })).toBe(1);
    const latency = (labels: Record<string, string>) => seriesValue(registry, 'keyfleet_gateway_operation_seconds_count', labels);
    expect(await latency({ operation: 'encrypt' })).toBe(3);
    expect(await latency({ operation: 'decrypt' })).toBe(1);
    expect(await seriesValue(registry, 'keyfleet_gateway_operation_seconds_bucket', { operation: 'decrypt', le: '0.02' })).toBe(0);
    expect(await seriesValue(registry, 'keyfleet_gateway_operation_seconds_bucket', { operation: 'decrypt', le: '0.05' })).toBe(1);

    expect(submitted.map((r) => r.topic)).toEqual(Array(4).fill(`it.${Topics.CryptoOps}`));
    const last = decodeMessage(submitted[3]?.value ?? Buffer.alloc(0));
    if (!last.ok) throw last.error;
    expect(last.message).toMatchObject({ type: MessageTypes.CryptoOperationRecordedV1, data: { operation: 'decrypt', outcome: 'ok', latencyMicros: 30_000, keyAlias: 'orders' } });
    expect(submitted[3]?.key).toBe(last.message.subject);
  });

  it('answers false for a record the spool refuses (fail closed) and counts nothing for it; other failures are thrown', async () => {
    const registry = new MetricsRegistry('crypto-gateway');
    let failure: Error = new MessagingException(MessagingExceptionCode.SpoolUnavailable, 'the buffer is full and the spool cannot be written');
    const spool = { accepting: true, submit: () => { throw failure; } } as unknown as SpooledPublisher;
    const sut = new KafkaOperationAudit(spool, 'it.', registry);
    const record = { caller: 'spiffe://keyfleet.local/app/app-demo', operation: 'encrypt', outcome: 'ok', latencyMicros: 10, attempts: 1, items: 1 } as const;

    expect(sut.record(record)).toBe(false);
    expect(await seriesValue(registry, 'keyfleet_gateway_operations_total', { operation: 'encrypt', outcome: 'ok' })).toBe(0);
    failure = new MessagingException(MessagingExceptionCode.NotRunning, 'the spooled publisher is not running');
    expect(() => sut.record(record)).toThrow(failure);
  });
});
