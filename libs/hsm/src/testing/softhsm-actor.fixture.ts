// Another process acting on a SoftHSM2 token (as cloudhsm-local will when it materialises
// keys or changes a crypto user's password). Usage:
//   softhsm-actor.fixture.ts create-aes <token> <pin> <label>
//   softhsm-actor.fixture.ts set-pin <token> <old-pin> <new-pin>
import { randomBytes } from 'node:crypto';
import * as pkcs11js from 'pkcs11js';
import { SOFTHSM_MODULE, slotOf } from './softhsm.test-kit';

function main(): void {
  const [command, token = '', pin = '', arg = ''] = process.argv.slice(2);
  const module = new pkcs11js.PKCS11();
  module.load(SOFTHSM_MODULE);
  module.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
  try {
    const session = module.C_OpenSession(slotOf(module, token), pkcs11js.CKF_RW_SESSION | pkcs11js.CKF_SERIAL_SESSION);
    module.C_Login(session, pkcs11js.CKU_USER, pin);
    if (command === 'create-aes') {
      module.C_CreateObject(session, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
        { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
        { type: pkcs11js.CKA_TOKEN, value: true },
        { type: pkcs11js.CKA_PRIVATE, value: true },
        { type: pkcs11js.CKA_SENSITIVE, value: true },
        { type: pkcs11js.CKA_EXTRACTABLE, value: false },
        { type: pkcs11js.CKA_ENCRYPT, value: true },
        { type: pkcs11js.CKA_DECRYPT, value: true },
        { type: pkcs11js.CKA_LABEL, value: arg },
        { type: pkcs11js.CKA_VALUE, value: randomBytes(32) },
      ]);
    } else if (command === 'set-pin') {
      module.C_SetPIN(session, pin, arg);
    } else {
      throw new Error(`unknown command ${String(command)}`);
    }
    module.C_Logout(session);
    module.C_CloseSession(session);
    process.stdout.write('done\n');
  } finally {
    module.C_Finalize();
  }
}

main();
