import type { LoggerService } from '@nestjs/common';
import type { Level, Logger } from 'pino';

/**
 * Nest's `LoggerService` on top of the process's pino logger, so that Nest's own lines
 * (module wiring, routes, errors from its exception handler) are JSON like every other.
 *
 * Nest passes the context as the last string argument (`log(message, context)`,
 * `error(message, stack, context)`); it lands in the `context` field.
 */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }

  error(message: unknown, ...params: unknown[]): void {
    // error(message, stack?, context?): a string argument with stack frames is the stack.
    const stack = params.find((p): p is string => typeof p === 'string' && /\n\s+at /.test(p));
    this.write(
      'error',
      message,
      params.filter((p) => p !== stack),
      stack ? { stack } : {},
    );
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }

  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }

  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(level: Level, message: unknown, params: unknown[], extra: Record<string, unknown> = {}): void {
    const context = typeof params.at(-1) === 'string' ? (params.at(-1) as string) : undefined;
    const fields = { ...extra, ...(context ? { context } : {}) };
    if (message instanceof Error) this.logger[level]({ ...fields, err: message }, message.message);
    else if (typeof message === 'object' && message !== null) this.logger[level]({ ...fields, ...message });
    else this.logger[level](fields, String(message));
  }
}
