import { envFields } from './env-fields';

describe('envFields', () => {
  describe(envFields.port.name, () => {
    const sut = envFields.port();

    it.each([
      ['1', 1],
      ['65535', 65_535],
    ])('accepts %s', (raw, port) => {
      expect(sut.parse(raw)).toBe(port);
    });

    it.each(['0', '65536', '-1', '80.5', 'abc', ''])('refuses %j', (raw) => {
      expect(sut.safeParse(raw).success).toBe(false);
    });
  });

  describe(envFields.brokers.name, () => {
    it('splits a broker list', () => {
      expect(envFields.brokers().parse('k1:9092,k2.internal:9093')).toEqual(['k1:9092', 'k2.internal:9093']);
    });

    it.each(['k1', 'k1:9092,', 'k1:9092 k2:9092', ''])('refuses %j', (raw) => {
      expect(envFields.brokers().safeParse(raw).success).toBe(false);
    });
  });

  describe(envFields.durationMs.name, () => {
    it.each([
      ['1500', 1_500],
      ['250ms', 250],
      ['30s', 30_000],
      ['5m', 300_000],
      ['1h', 3_600_000],
    ])('reads %s as %d ms', (raw, ms) => {
      expect(envFields.durationMs().parse(raw)).toBe(ms);
    });

    it.each(['1.5s', '10 s', 'soon', '-1', ''])('refuses %j', (raw) => {
      expect(envFields.durationMs().safeParse(raw).success).toBe(false);
    });
  });

  describe(envFields.postgresUrl.name, () => {
    it.each(['postgres://u:p@127.0.0.1:5432/keyfleet', 'postgresql://u:p@db/keyfleet?sslmode=require'])('accepts %s', (raw) => {
      expect(envFields.postgresUrl().parse(raw)).toBe(raw);
    });

    it.each(['mysql://u:p@db/x', 'postgres://db', 'keyfleet'])('refuses %s', (raw) => {
      expect(envFields.postgresUrl().safeParse(raw).success).toBe(false);
    });
  });

  describe(envFields.logLevel.name, () => {
    it('defaults to info', () => {
      expect(envFields.logLevel().parse(undefined)).toBe('info');
    });
  });

  describe(envFields.secret.name, () => {
    it('has no default: a missing secret is an error', () => {
      expect(envFields.secret().safeParse(undefined).success).toBe(false);
    });
  });
});
