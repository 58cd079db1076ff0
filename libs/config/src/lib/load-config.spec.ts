import { z } from 'zod';
import { ConfigException } from './config.exception';
import { envFields } from './env-fields';
import { loadConfig } from './load-config';

const schema = z
  .object({
    HTTP_PORT: envFields.port().default('3000'),
    KAFKA_BROKERS: envFields.brokers(),
    DATABASE_URL: envFields.postgresUrl(),
    LOG_LEVEL: envFields.logLevel(),
    SECRET_TOKEN: z.string().min(32, 'expected at least 32 characters'),
  })
  .transform((env) => ({
    http: { port: env.HTTP_PORT },
    kafka: { brokers: env.KAFKA_BROKERS },
    db: { url: env.DATABASE_URL },
    log: { level: env.LOG_LEVEL },
  }));

const valid = {
  KAFKA_BROKERS: '127.0.0.1:9092,127.0.0.2:9092',
  DATABASE_URL: 'postgres://keyfleet:pw@127.0.0.1:5432/keyfleet',
  SECRET_TOKEN: 'x'.repeat(32),
};

function problemsOf(env: NodeJS.ProcessEnv): readonly string[] {
  try {
    loadConfig(schema, env);
  } catch (err) {
    if (err instanceof ConfigException) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigException');
}

describe(loadConfig.name, () => {
  it('builds the nested typed config from flat variables, with defaults', () => {
    expect(loadConfig(schema, valid)).toEqual({
      http: { port: 3000 },
      kafka: { brokers: ['127.0.0.1:9092', '127.0.0.2:9092'] },
      db: { url: valid.DATABASE_URL },
      log: { level: 'info' },
    });
  });

  it('names every missing variable', () => {
    expect(problemsOf({})).toEqual(['KAFKA_BROKERS: required', 'DATABASE_URL: required', 'SECRET_TOKEN: required']);
  });

  it('says what a bad variable should look like', () => {
    expect(problemsOf({ ...valid, HTTP_PORT: 'abc', LOG_LEVEL: 'loud' })).toEqual([
      'HTTP_PORT: expected an integer 1-65535',
      'LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent',
    ]);
  });

  it('never echoes a value, secret or not', () => {
    const problems = problemsOf({ ...valid, SECRET_TOKEN: 'hunter2', LOG_LEVEL: 'hunter3', DATABASE_URL: 'mysql://u:hunter4@h/db' });
    expect(problems.join('\n')).not.toMatch(/hunter/);
    expect(problems).toContain('SECRET_TOKEN: expected at least 32 characters');
  });
});
