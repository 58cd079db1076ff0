import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import * as pkcs11js from 'pkcs11js';
import { aesGcmEncrypt, findByLabel, slotOf, SOFTHSM_MODULE, suiteTokens, type SuiteTokens } from '../testing/softhsm.test-kit';
import { loadIsolatedModule } from './isolated-module';

const root = join(__dirname, '../../../..');
const fixture = join(__dirname, '../testing/softhsm-actor.fixture.ts');
const RW = pkcs11js.CKF_RW_SESSION | pkcs11js.CKF_SERIAL_SESSION;

/**
 * What SoftHSM2 really does when another process changes a token, measured against the
 * real library: the design of cloudhsm-local's token materialisation and of the gateway's
 * per-pool module copies rests on these facts.
 */
describe('SoftHSM2 seen from a process that already has the token open', () => {
  let hsm: SuiteTokens;
  let pin: string;
  let token: string;
  const actor = (...args: string[]) =>
    execFileSync(process.execPath, ['-r', '@swc-node/register', fixture, ...args], {
      cwd: root,
      env: { ...process.env, SWC_NODE_PROJECT: join(root, 'tsconfig.json') },
    }).toString();
  const open = (module: pkcs11js.PKCS11) => module.C_OpenSession(slotOf(module, token), RW);
  const loginWorks = (module: pkcs11js.PKCS11, candidate: string): boolean => {
    const session = open(module);
    try {
      module.C_Login(session, pkcs11js.CKU_USER, candidate);
      module.C_Logout(session);
      return true;
    } catch (err) {
      if (err instanceof Error && /CKR_PIN_INCORRECT/.test(err.message)) return false;
      throw err;
    } finally {
      module.C_CloseSession(session);
    }
  };

  beforeEach(() => {
    hsm = suiteTokens('behaviour');
    ({ label: token, pin } = hsm.initToken('app_user'));
  });

  afterEach(() => {
    hsm.remove();
  });

  it('finds and uses a key another process created after this one logged in', () => {
    const { module } = loadIsolatedModule(SOFTHSM_MODULE, join(hsm.dir, 'modules'));
    module.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
    try {
      const session = open(module);
      module.C_Login(session, pkcs11js.CKU_USER, pin);
      expect(findByLabel(module, session, 'payments/v1')).toHaveLength(0);

      expect(actor('create-aes', token, pin, 'payments/v1')).toBe('done\n');

      const [key] = findByLabel(module, session, 'payments/v1');
      expect(key).toBeDefined();
      expect(aesGcmEncrypt(module, session, key!, Buffer.from('hello'))).toHaveLength(5 + 16);
    } finally {
      module.C_Finalize();
    }
  });

  it('keeps accepting the old PIN after another process changed it, until re-initialised; an isolated copy re-initialises alone', () => {
    const a = loadIsolatedModule(SOFTHSM_MODULE, join(hsm.dir, 'modules')).module;
    const b = loadIsolatedModule(SOFTHSM_MODULE, join(hsm.dir, 'modules')).module;
    a.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
    b.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
    try {
      // Pool B holds a logged-in session throughout.
      const held = open(b);
      b.C_Login(held, pkcs11js.CKU_USER, pin);

      const newPin = `${pin}-rotated`;
      expect(actor('set-pin', token, pin, newPin)).toBe('done\n');

      // SoftHSM2 caches the token's PIN per library instance: the change is not seen yet.
      expect(loginWorks(a, newPin)).toBe(false);
      expect(loginWorks(a, pin)).toBe(true);

      // Re-initialising copy A makes it read the token again...
      a.C_Finalize();
      a.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
      expect(loginWorks(a, newPin)).toBe(true);
      expect(loginWorks(a, pin)).toBe(false);

      // ...without touching copy B's logged-in session.
      expect(b.C_GetSessionInfo(held).state).toBe(3); // CKS_RW_USER_FUNCTIONS
      expect(findByLabel(b, held, 'nothing-here')).toHaveLength(0);
    } finally {
      a.C_Finalize();
      b.C_Finalize();
    }
  });
});
