import { GatewayExceptionCode } from '@keyfleet/gateway';
import { HsmException, HsmExceptionCode } from '@keyfleet/hsm';
import { ResilienceException, ResilienceExceptionCode } from '@keyfleet/resilience';
import { countsAgainstCluster, failureClassifier } from './failure-classifier';

const hsm = (code: HsmExceptionCode) => new HsmException(code, 'x');

describe('failureClassifier', () => {
  const sut = failureClassifier;

  it.each([
    [hsm(HsmExceptionCode.Busy), true, GatewayExceptionCode.Unavailable],
    [hsm(HsmExceptionCode.SessionBroken), true, GatewayExceptionCode.Unavailable],
    [hsm(HsmExceptionCode.NotLoggedIn), true, GatewayExceptionCode.Unavailable],
    [hsm(HsmExceptionCode.InjectedFault), true, GatewayExceptionCode.Unavailable],
    [hsm(HsmExceptionCode.KeyNotFound), true, GatewayExceptionCode.Unavailable],
    [hsm(HsmExceptionCode.AuthenticationFailed), false, GatewayExceptionCode.InvalidArgument],
    [hsm(HsmExceptionCode.KeyNotPermitted), false, GatewayExceptionCode.FailedPrecondition],
    [hsm(HsmExceptionCode.PoolTimeout), false, GatewayExceptionCode.DeadlineExceeded],
    [hsm(HsmExceptionCode.DeviceError), false, GatewayExceptionCode.Unavailable],
    [new ResilienceException(ResilienceExceptionCode.CircuitOpen, 'open'), true, GatewayExceptionCode.Unavailable],
    [new ResilienceException(ResilienceExceptionCode.BulkheadFull, 'full'), false, GatewayExceptionCode.ResourceExhausted],
    [new ResilienceException(ResilienceExceptionCode.QueueTimeout, 'late'), false, GatewayExceptionCode.DeadlineExceeded],
    [new Error('surprise'), false, GatewayExceptionCode.Internal],
  ])('classifies %s as retryable=%s, %s', (err, retryable, code) => {
    expect(sut.classify(err)).toMatchObject({ retryable, code });
  });

  it('answers a failed GCM tag with nothing but "ciphertext authentication failed"', () => {
    expect(sut.classify(hsm(HsmExceptionCode.AuthenticationFailed)).reason).toBe('ciphertext authentication failed');
  });
});

describe(countsAgainstCluster.name, () => {
  it('counts HSM and device failures, including timeouts of a hung HSM', () => {
    for (const code of [HsmExceptionCode.Busy, HsmExceptionCode.SessionBroken, HsmExceptionCode.DeviceError, HsmExceptionCode.PoolTimeout, HsmExceptionCode.InjectedFault]) {
      expect(countsAgainstCluster(hsm(code))).toBe(true);
    }
  });

  it('does not count the caller\'s mistakes or the resilience layer\'s own refusals', () => {
    for (const code of [HsmExceptionCode.AuthenticationFailed, HsmExceptionCode.InvalidInput, HsmExceptionCode.KeyNotPermitted, HsmExceptionCode.SignatureInvalid]) {
      expect(countsAgainstCluster(hsm(code))).toBe(false);
    }
    expect(countsAgainstCluster(new ResilienceException(ResilienceExceptionCode.BulkheadFull, 'full'))).toBe(false);
  });
});
