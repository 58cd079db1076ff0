import * as pkcs11js from 'pkcs11js';
import { HsmExceptionCode } from '../hsm.exception';
import { toHsmException } from '../pkcs11-error.mapper';
import { failureOf } from './offload-jobs';
import { errorOf } from './pkcs11-offload';

describe('the PKCS#11 failures that cross from a worker thread', () => {
  it('keep the CKR value and the function that failed, so the main thread maps them as its own', () => {
    const inWorker = new pkcs11js.Pkcs11Error('CKR_KEY_HANDLE_INVALID', pkcs11js.CKR_KEY_HANDLE_INVALID, 'C_SignInit');

    const sut = errorOf(structuredClone(failureOf(inWorker)));

    expect(sut).toBeInstanceOf(pkcs11js.Pkcs11Error);
    expect(sut).toMatchObject({ message: 'CKR_KEY_HANDLE_INVALID', code: pkcs11js.CKR_KEY_HANDLE_INVALID, method: 'C_SignInit' });
    expect(toHsmException(sut, 'C_Sign')).toMatchObject({ code: HsmExceptionCode.KeyHandleInvalid, ckr: 'CKR_KEY_HANDLE_INVALID' });
  });

  it('turn any other error into a plain error with its name and message, which maps to a device error', () => {
    const sut = errorOf(failureOf(new TypeError('Parameter 1 MUST be Buffer')));

    expect(sut).not.toBeInstanceOf(pkcs11js.Pkcs11Error);
    expect(sut).toMatchObject({ name: 'TypeError', message: 'Parameter 1 MUST be Buffer' });
    expect(toHsmException(sut, 'C_Sign').code).toBe(HsmExceptionCode.DeviceError);
  });

  it('say nothing of a thrown non-error value', () => {
    expect(failureOf('PIN 1234')).toEqual({ name: 'Error', message: 'the worker thread failed with a non-error value' });
  });
});
