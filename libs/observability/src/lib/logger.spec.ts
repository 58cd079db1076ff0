import { Writable } from 'node:stream';
import { createLogger } from './logger';

/** A destination that keeps what pino writes, exactly as it would reach stdout. */
function capture(): { stream: Writable; raw: () => string; lines: () => Record<string, unknown>[] } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, raw: () => text, lines: () => text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe(createLogger.name, () => {
  it('writes one JSON line with service, level and message', () => {
    const out = capture();
    const sut = createLogger({ service: 'key-service', level: 'info' }, out.stream);
    sut.info({ alias: 'payments' }, 'key registered');
    expect(out.lines()).toEqual([
      expect.objectContaining({ service: 'key-service', level: 'info', alias: 'payments', msg: 'key registered', time: expect.any(String) }),
    ]);
  });

  it('removes a nested password and a pin from the serialized line', () => {
    const out = capture();
    const sut = createLogger({ service: 's', level: 'info' }, out.stream);
    sut.info({ db: { connection: { password: 'p4ss-nested' } }, user: { pin: 'alice:pin-1234' } }, 'connecting');
    expect(out.raw()).not.toMatch(/p4ss-nested|pin-1234/);
    expect(out.lines()[0]).toMatchObject({ db: { connection: { password: '[redacted]' } }, user: { pin: '[redacted]' } });
  });

  it('redacts every secret-named field, at the top level and four levels down', () => {
    const out = capture();
    const sut = createLogger({ service: 's', level: 'info' }, out.stream);
    sut.info(
      {
        secret: 's-top',
        req: { headers: { authorization: 'Bearer tok-deep' } },
        data: { plaintext: 'attack at dawn', keyMaterial: 'km-raw', privateKey: 'pk-raw' },
        a: { b: { c: { d: { token: 'tok-depth-4' } } } },
        aws: { SecretString: 'aws-secret' },
      },
      'x',
    );
    expect(out.raw()).not.toMatch(/s-top|tok-deep|attack at dawn|km-raw|pk-raw|tok-depth-4|aws-secret/);
  });

  it('redacts secrets carried by child bindings and by errors', () => {
    const out = capture();
    const sut = createLogger({ service: 's', level: 'info' }, out.stream);
    const err = Object.assign(new Error('login failed'), { pin: 'cu1:err-pin' });
    sut.child({ password: 'child-pw' }).error({ err }, 'failed');
    expect(out.raw()).not.toMatch(/child-pw|err-pin/);
  });

  it('keeps the stack of an error under err', () => {
    const out = capture();
    createLogger({ service: 's', level: 'info' }, out.stream).error({ err: new Error('boom') }, 'failed');
    expect(out.lines()[0]?.['err']).toMatchObject({ type: 'Error', message: 'boom', stack: expect.stringContaining('logger.spec.ts') });
  });

  it('writes nothing below its level', () => {
    const out = capture();
    createLogger({ service: 's', level: 'warn' }, out.stream).info('quiet');
    expect(out.raw()).toBe('');
  });
});
