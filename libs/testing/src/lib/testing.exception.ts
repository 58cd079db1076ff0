import { KeyfleetException } from '@keyfleet/errors';

/** Why a test could not drive a process or reach the infrastructure. */
export enum TestingExceptionCode {
  /** `dist/` has no build of the app: run the build first. */
  NotBuilt = 'NOT_BUILT',
  /** The service exited before its /health answered 200. */
  ExitedDuringStartup = 'EXITED_DURING_STARTUP',
  /** The service kept running but /health did not answer 200 in time. */
  NotHealthy = 'NOT_HEALTHY',
  /** The process did not exit in time after a signal, or at all. */
  DidNotExit = 'DID_NOT_EXIT',
  /** A variable describing the local infrastructure is not set. */
  MissingInfrastructure = 'MISSING_INFRASTRUCTURE',
  /** A clean-up was asked to drop something that is not clearly a suite's own. */
  UnsafeCleanup = 'UNSAFE_CLEANUP',
}

/** The one exception of `@keyfleet/testing`; its message carries the process output when there is one. */
export class TestingException extends KeyfleetException<TestingExceptionCode> {
  constructor(code: TestingExceptionCode, message: string) {
    super(code, message);
  }
}
