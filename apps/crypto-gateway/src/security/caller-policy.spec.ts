import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCallerUri } from './caller-identity';
import { CallerPolicy, type CallerPolicyDocument } from './caller-policy';
import { SecurityException, SecurityExceptionCode } from './security.exception';

const payments = parseCallerUri('spiffe://keyfleet.local/app/app-payments');
const reports = parseCallerUri('spiffe://keyfleet.local/app/app-reports');
const stranger = parseCallerUri('spiffe://keyfleet.local/app/app-stranger');
const keyService = parseCallerUri('spiffe://keyfleet.local/service/key-service');
const auditService = parseCallerUri('spiffe://keyfleet.local/service/audit-service');

const document: CallerPolicyDocument = {
  callers: {
    [payments.uri]: { keys: ['payments/*', 'shared-hmac'], operations: ['encrypt', 'decrypt', 'generate-mac', 'generate-random'] },
    [reports.uri]: { keys: ['*'], operations: ['verify'] },
    [keyService.uri]: { keys: ['shared-hmac'], operations: ['verify-mac'] },
  },
  admin: [keyService.uri],
};

describe(CallerPolicy.name, () => {
  const sut = CallerPolicy.from(document);

  describe('authorize', () => {
    it('allows a listed operation on an exactly named key', () => {
      expect(sut.authorize(payments, 'generate-mac', 'shared-hmac')).toEqual({ allowed: true });
    });

    it('allows any key under a trailing-* prefix', () => {
      expect(sut.authorize(payments, 'encrypt', 'payments/cards')).toEqual({ allowed: true });
      expect(sut.authorize(payments, 'decrypt', 'payments/eu/cards')).toEqual({ allowed: true });
    });

    it('matches a prefix literally, not as a substring or a sibling name', () => {
      expect(sut.authorize(payments, 'encrypt', 'payments')).toEqual({ allowed: false, reason: `${payments.uri} may not encrypt with key payments` });
      expect(sut.authorize(payments, 'encrypt', 'old-payments/cards')).toMatchObject({ allowed: false });
      expect(sut.authorize(payments, 'generate-mac', 'shared-hmac-2')).toMatchObject({ allowed: false });
    });

    it('lets a lone * match every key', () => {
      expect(sut.authorize(reports, 'verify', 'anything/at-all')).toEqual({ allowed: true });
    });

    it('denies a key outside the patterns, naming identity, operation and alias', () => {
      expect(sut.authorize(payments, 'encrypt', 'hr/salaries')).toEqual({ allowed: false, reason: `${payments.uri} may not encrypt with key hr/salaries` });
    });

    it('denies an operation the caller was not granted, whatever the key', () => {
      expect(sut.authorize(payments, 'sign', 'payments/cards')).toEqual({ allowed: false, reason: `${payments.uri} may not sign` });
      expect(sut.authorize(reports, 'decrypt', 'payments/cards')).toEqual({ allowed: false, reason: `${reports.uri} may not decrypt` });
    });

    it('needs no key for generate-random but needs one for everything else', () => {
      expect(sut.authorize(payments, 'generate-random')).toEqual({ allowed: true });
      expect(sut.authorize(payments, 'encrypt')).toEqual({ allowed: false, reason: `${payments.uri} may not encrypt without a key alias` });
    });

    it('denies a caller the policy does not know', () => {
      expect(sut.authorize(stranger, 'generate-random')).toEqual({ allowed: false, reason: `${stranger.uri} is not a caller of the crypto API` });
    });

    it('never grants admin through the crypto API', () => {
      expect(sut.authorize(keyService, 'admin', 'shared-hmac')).toEqual({ allowed: false, reason: `${keyService.uri} may not admin` });
    });

    it('does not echo a malformed alias into the reason', () => {
      const decision = sut.authorize(payments, 'encrypt', 'x\n{"forged":true}');

      expect(decision).toEqual({ allowed: false, reason: `${payments.uri} may not encrypt with key (malformed alias)` });
    });
  });

  describe('authorizeAdmin', () => {
    it('allows a keyfleet service listed as admin', () => {
      expect(sut.authorizeAdmin(keyService)).toEqual({ allowed: true });
    });

    it('denies a service that is not listed', () => {
      expect(sut.authorizeAdmin(auditService)).toEqual({ allowed: false, reason: `${auditService.uri} may not admin: not listed as an HsmAdmin caller` });
    });

    it('denies applications, even ones the crypto API knows', () => {
      expect(sut.authorizeAdmin(payments)).toEqual({ allowed: false, reason: `${payments.uri} may not admin: HsmAdmin is for keyfleet services only` });
    });
  });

  describe('loading', () => {
    let dir: string;

    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'caller-policy-'));
    });

    afterAll(() => {
      rmSync(dir, { recursive: true, force: true });
    });

    const load = (name: string, text: string): unknown => {
      const file = join(dir, name);
      writeFileSync(file, text);
      try {
        return CallerPolicy.fromFile(file);
      } catch (err) {
        return err;
      }
    };

    it('reads a valid policy file', () => {
      const policy = load('valid.json', JSON.stringify(document));

      expect(policy).toBeInstanceOf(CallerPolicy);
      expect((policy as CallerPolicy).authorize(payments, 'encrypt', 'payments/x')).toEqual({ allowed: true });
    });

    it('lists every problem of an invalid policy with its path', () => {
      const file = join(dir, 'invalid.json');
      const err = load(
        'invalid.json',
        JSON.stringify({
          callers: {
            'spiffe://elsewhere.example/app/app-x': { keys: ['a'], operations: ['encrypt'] },
            [payments.uri]: { keys: ['pay*ments', ''], operations: ['encrypt', 'launch-missiles', 'admin'], extra: true },
          },
          admin: [payments.uri],
        }),
      );

      expect(err).toBeInstanceOf(SecurityException);
      expect(err).toMatchObject({ code: SecurityExceptionCode.InvalidPolicy });
      const message = (err as SecurityException).message;
      expect(message.split('\n')[0]).toBe(`caller policy ${file} is invalid:`);
      expect(message).toContain('callers["spiffe://elsewhere.example/app/app-x"]: caller identity spiffe://elsewhere.example/app/app-x is not in the trust domain keyfleet.local');
      expect(message).toContain(`callers["${payments.uri}"].keys[0]: expected a key alias, or a prefix ending in *`);
      expect(message).toContain(`callers["${payments.uri}"].keys[1]: expected a key alias`);
      expect(message).toContain(`callers["${payments.uri}"].operations[1]: Invalid enum value`);
      expect(message).toContain(`callers["${payments.uri}"].operations[2]: Invalid enum value`);
      expect(message).toContain(`callers["${payments.uri}"]: Unrecognized key(s) in object: 'extra'`);
      expect(message).toContain(`admin[0]: ${payments.uri} is not of kind service`);
    });

    it('says so when the file is not JSON', () => {
      expect(load('broken.json', '{ "callers": ')).toMatchObject({ code: SecurityExceptionCode.InvalidPolicy, message: `caller policy ${join(dir, 'broken.json')} is not valid JSON` });
    });

    it('says so when the file cannot be read', () => {
      const missing = join(dir, 'missing.json');

      expect(thrownFromFile(missing)).toMatchObject({ code: SecurityExceptionCode.InvalidPolicy, message: `caller policy ${missing} cannot be read` });
    });

    it('accepts the development policy shipped with the dev PKI', () => {
      const policy = CallerPolicy.fromFile(join(__dirname, '../../../../tools/pki/dev-policy.json'));
      const demo = parseCallerUri('spiffe://keyfleet.local/app/app-demo');

      expect(policy.authorize(demo, 'sign', 'demo-signing')).toEqual({ allowed: true });
      expect(policy.authorize(demo, 'sign', 'payments-signing')).toMatchObject({ allowed: false });
      expect(policy.authorize(payments, 'encrypt', 'payments-aes')).toEqual({ allowed: true });
      expect(policy.authorizeAdmin(parseCallerUri('spiffe://keyfleet.local/service/migration-service'))).toEqual({ allowed: true });
      expect(policy.authorizeAdmin(demo)).toMatchObject({ allowed: false });
    });
  });
});

function thrownFromFile(file: string): unknown {
  try {
    CallerPolicy.fromFile(file);
  } catch (err) {
    return err;
  }
  throw new Error('expected an exception');
}
