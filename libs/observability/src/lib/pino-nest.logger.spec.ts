import { Writable } from 'node:stream';
import { createLogger } from './logger';
import { PinoNestLogger } from './pino-nest.logger';

describe(PinoNestLogger.name, () => {
  let text: string;
  let sut: PinoNestLogger;
  const lines = () => text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

  beforeEach(() => {
    text = '';
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        text += chunk.toString();
        done();
      },
    });
    sut = new PinoNestLogger(createLogger({ service: 'svc', level: 'trace' }, stream));
  });

  it('turns a Nest log call into a JSON line with its context', () => {
    sut.log('Mapped {/health, GET} route', 'RouterExplorer');
    expect(lines()[0]).toMatchObject({ service: 'svc', level: 'info', msg: 'Mapped {/health, GET} route', context: 'RouterExplorer' });
  });

  it('keeps the stack Nest passes with an error', () => {
    sut.error('request failed', 'Error: x\n    at handler (a.ts:1:1)', 'ExceptionsHandler');
    expect(lines()[0]).toMatchObject({
      level: 'error',
      msg: 'request failed',
      context: 'ExceptionsHandler',
      stack: expect.stringContaining('at handler'),
    });
  });

  it('logs an Error under err', () => {
    sut.error(new Error('boom'));
    expect(lines()[0]).toMatchObject({ level: 'error', msg: 'boom', err: { type: 'Error', message: 'boom' } });
  });

  it('merges an object message into the line and still redacts it', () => {
    sut.warn({ msg: 'odd', password: 'nest-pw' }, 'Ctx');
    expect(text).not.toContain('nest-pw');
    expect(lines()[0]).toMatchObject({ level: 'warn', msg: 'odd', context: 'Ctx' });
  });

  it('maps verbose to trace', () => {
    sut.verbose('details');
    expect(lines()[0]).toMatchObject({ level: 'trace', msg: 'details' });
  });
});
