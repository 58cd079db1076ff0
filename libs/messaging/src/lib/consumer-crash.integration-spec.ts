import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Topics } from '@keyfleet/contracts';
import { createMessagingTestKit, keyRegisteredMessages, type MessagingTestKit } from '../testing/messaging.test-kit';
import { OutboxRelay } from './outbox/outbox-relay';
import { appendToOutbox } from './outbox/outbox-writer';

const root = join(__dirname, '../../../..');
const fixture = join(__dirname, '../testing/consumer-process.fixture.ts');

interface Child {
  readonly process: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>;
}

function startConsumerProcess(kit: MessagingTestKit, group: string, crash: boolean): Child {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', fixture], {
    cwd: root,
    env: {
      ...process.env,
      SWC_NODE_PROJECT: join(root, 'tsconfig.json'),
      IT_SCHEMA: kit.schema,
      IT_GROUP: group,
      IT_TOPIC: kit.topic(Topics.KeyEvents),
      CRASH_AFTER_EFFECTS: crash ? '1' : '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, output })),
  );
  return { process: child, exited };
}

/** Sum over partitions of the group's committed offsets: messages consumed and committed. */
async function committedOffsets(kit: MessagingTestKit, group: string): Promise<number> {
  const admin = kit.kafka.admin();
  await admin.connect();
  try {
    const [committed] = await admin.fetchOffsets({ groupId: group, topics: [kit.topic(Topics.KeyEvents)] });
    return (committed?.partitions ?? []).map((p) => Math.max(0, Number(p.offset))).reduce((a, b) => a + b, 0);
  } finally {
    await admin.disconnect();
  }
}

describe('a consumer process killed between its effect and its offset commit', () => {
  let kit: MessagingTestKit;

  beforeAll(async () => {
    kit = await createMessagingTestKit('crash');
  });

  afterAll(async () => {
    await kit.close();
  });

  it('d) has no double effect after restart', async () => {
    const n = 400;
    const group = `${kit.prefix}crash`;
    const messages = keyRegisteredMessages(n);
    await kit.dataSource.transaction((em) => appendToOutbox(em, messages, kit.prefix));
    const relay = new OutboxRelay(kit.dataSource, kit.publisher, kit.metrics, kit.logger);
    while ((await relay.relayOnce()) > 0);
    expect(await relay.backlog()).toBe(0);

    const crashing = startConsumerProcess(kit, group, true);
    const crashed = await crashing.exited;
    expect(crashed.signal).toBe('SIGKILL');
    expect(crashed.output).toMatch(/crashing after \d+ effects/);

    // The effects of the killed batch are committed, its offsets are not.
    const applied = (await kit.effects()).total;
    expect(applied).toBeGreaterThan(0);
    expect(await committedOffsets(kit, group)).toBeLessThan(applied);

    const restarted = startConsumerProcess(kit, group, false);
    try {
      // Once the group has committed every offset, every message was either applied or
      // recognised as a duplicate: counting now is final.
      await kit.waitFor(`offsets of all ${n} messages committed`, async () => (await committedOffsets(kit, group)) === n);
      expect(await kit.effects()).toEqual({ total: n, distinct: n });
    } finally {
      restarted.process.kill('SIGTERM');
      expect((await restarted.exited).code).toBe(0);
    }
  });
});
