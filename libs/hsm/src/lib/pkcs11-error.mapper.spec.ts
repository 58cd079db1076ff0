import * as pkcs11js from 'pkcs11js';
import { HsmException, HsmExceptionCode } from './hsm.exception';
import { isCkr, toHsmException } from './pkcs11-error.mapper';

const ckr = (name: string, code: number) => new pkcs11js.Pkcs11Error(`${name}:${code}`, code, 'C_Test');

describe(toHsmException.name, () => {
  it.each([
    ['CKR_FUNCTION_FAILED', 6, HsmExceptionCode.Busy, true],
    ['CKR_OPERATION_ACTIVE', 0x90, HsmExceptionCode.Busy, true],
    ['CKR_SESSION_HANDLE_INVALID', 0xb3, HsmExceptionCode.SessionBroken, true],
    ['CKR_USER_NOT_LOGGED_IN', 0x101, HsmExceptionCode.NotLoggedIn, true],
    ['CKR_KEY_HANDLE_INVALID', 0x60, HsmExceptionCode.KeyHandleInvalid, true],
    ['CKR_PIN_INCORRECT', 0xa0, HsmExceptionCode.LoginFailed, false],
    ['CKR_KEY_FUNCTION_NOT_PERMITTED', 0x68, HsmExceptionCode.KeyNotPermitted, false],
    ['CKR_DATA_LEN_RANGE', 0x21, HsmExceptionCode.InvalidInput, false],
    ['CKR_SIGNATURE_INVALID', 0xc0, HsmExceptionCode.SignatureInvalid, false],
    ['CKR_VENDOR_DEFINED', 0x80000000, HsmExceptionCode.DeviceError, false],
  ])('maps %s to %s (retryable: %s)', (name, code, expected, retryable) => {
    const sut = toHsmException(ckr(name, code), 'C_Test');

    expect(sut).toMatchObject({ code: expected, ckr: name, retryable });
    expect(sut.message).toContain(name);
  });

  it('passes an HsmException through and wraps anything else as a device error', () => {
    const own = new HsmException(HsmExceptionCode.PoolClosed, 'closed');

    expect(toHsmException(own, 'x')).toBe(own);
    expect(toHsmException(new Error('boom'), 'C_Sign')).toMatchObject({ code: HsmExceptionCode.DeviceError, message: 'DEVICE_ERROR: C_Sign failed' });
  });

  it('recognises one CKR value', () => {
    expect(isCkr(ckr('CKR_USER_ALREADY_LOGGED_IN', 0x100), 'CKR_USER_ALREADY_LOGGED_IN')).toBe(true);
    expect(isCkr(ckr('CKR_PIN_INCORRECT', 0xa0), 'CKR_USER_ALREADY_LOGGED_IN')).toBe(false);
  });
});
