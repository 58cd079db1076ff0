import { Writable } from 'node:stream';
import { createLogger } from './logger';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[]; raw: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString();
      done();
    },
  });
  return {
    stream,
    raw: () => text,
    lines: () => text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe(createLogger.name, () => {
  it('writes one JSON line with service, level and message', () => {
    const out = capture();
    createLogger({ service: 'key-service', level: 'info' }, out.stream).info({ alias: 'payments' }, 'key registered');
    expect(out.lines()[0]).toMatchObject({ service: 'key-service', level: 'info', alias: 'payments', msg: 'key registered' });
  });

  it('redacts secret-named fields at any depth', () => {
    const out = capture();
    const sut = createLogger({ service: 's', level: 'info' }, out.stream);
    sut.info({ password: 'p4ss-top', user: { pin: 'alice:pin-nested' }, req: { headers: { authorization: 'Bearer tok-deep' } }, data: { plaintext: 'attack at dawn' } }, 'x');
    expect(out.raw()).not.toMatch(/p4ss-top|pin-nested|tok-deep|attack at dawn/);
    expect(out.lines()[0]).toMatchObject({ password: '[redacted]', user: { pin: '[redacted]' }, data: { plaintext: '[redacted]' } });
  });

  it('keeps the stack of an error under err', () => {
    const out = capture();
    createLogger({ service: 's', level: 'info' }, out.stream).error({ err: new Error('boom') }, 'failed');
    expect(out.lines()[0]?.['err']).toMatchObject({ type: 'Error', message: 'boom', stack: expect.stringContaining('logger.spec.ts') });
  });
});
