import { z } from 'zod';
import { ConfigException, ConfigExceptionCode } from './config.exception';
import { envFields } from './env-fields';
import { loadConfig, showValue } from './load-config';

const schema = z
  .object({
    HTTP_PORT: envFields.port().default('3000'),
    KAFKA_BROKERS: envFields.brokers(),
    DATABASE_URL: envFields.postgresUrl(),
    LOG_LEVEL: envFields.logLevel(),
    API_TOKEN: envFields.secret({ minLength: 32 }),
    HSM_CU_CREDS: envFields.secret().optional(),
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
  API_TOKEN: 'x'.repeat(32),
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

  it('names every missing variable in one exception', () => {
    expect(() => loadConfig(schema, {})).toThrow(
      new ConfigException(['KAFKA_BROKERS: required', 'DATABASE_URL: required', 'API_TOKEN: required']),
    );
  });

  it('carries the code and the list of problems', () => {
    expect(() => loadConfig(schema, { ...valid, KAFKA_BROKERS: undefined })).toThrow(
      expect.objectContaining({ code: ConfigExceptionCode.Invalid, problems: ['KAFKA_BROKERS: required'] }) as Error,
    );
  });

  it('says what a bad variable should look like and what it got', () => {
    expect(problemsOf({ ...valid, HTTP_PORT: 'abc', LOG_LEVEL: 'loud' })).toEqual([
      'HTTP_PORT: expected an integer 1-65535, got "abc"',
      'LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, got "loud"',
    ]);
  });

  it('refuses a port out of range', () => {
    expect(problemsOf({ ...valid, HTTP_PORT: '70000' })).toEqual(['HTTP_PORT: expected an integer 1-65535, got "70000"']);
  });

  it('never shows the value of a variable whose name looks secret', () => {
    const problems = problemsOf({ ...valid, API_TOKEN: 'hunter2' });
    expect(problems).toEqual(['API_TOKEN: expected at least 32 characters']);
  });

  it('never shows the value of a field marked secret, whatever its name', () => {
    const problems = problemsOf({ ...valid, HSM_CU_CREDS: '' });
    expect(problems).toEqual(['HSM_CU_CREDS: expected a non-empty value']);
  });

  it('masks the password of a bad database URL', () => {
    const problems = problemsOf({ ...valid, DATABASE_URL: 'mysql://root:hunter2@db:3306/x' });
    expect(problems).toEqual(['DATABASE_URL: expected postgres://user:password@host:port/database, got "mysql://***@db:3306/x"']);
  });
});

describe(showValue.name, () => {
  it('quotes a harmless value', () => {
    expect(showValue('abc')).toBe('"abc"');
  });

  it.each([
    ['postgres://u:hunter2@h/db', '"postgres://***@h/db"'],
    ['postgres://u:hun@ter/2@h/db', '"postgres://***@h/db"'],
    ['u:hunter2@h', '"***@h"'],
    ['postgres://h/db?sslmode=require&password=hunter2', '"postgres://h/db?sslmode=require&password=***"'],
  ])('masks credentials in %s', (value, shown) => {
    expect(showValue(value)).toBe(shown);
  });

  it('bounds a long value', () => {
    expect(showValue('a'.repeat(500))).toBe(`"${'a'.repeat(80)}..."`);
  });
});
