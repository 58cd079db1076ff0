import { KeyfleetException } from '@keyfleet/errors';

/** Why messaging failed. */
export enum MessagingExceptionCode {
  /** Kafka did not accept a publish (after the client's own retries). */
  PublishFailed = 'PUBLISH_FAILED',
  /** Topics could not be created or checked at start-up. */
  ProvisioningFailed = 'PROVISIONING_FAILED',
  /** A component was used before `start()` or after `stop()`. */
  NotRunning = 'NOT_RUNNING',
  /** A spooled publisher could neither queue a record nor write it to its local spool (fail closed). */
  SpoolUnavailable = 'SPOOL_UNAVAILABLE',
}

/** The one exception of `@keyfleet/messaging`. */
export class MessagingException extends KeyfleetException<MessagingExceptionCode> {
  constructor(code: MessagingExceptionCode, message: string, options?: { cause?: unknown }) {
    super(code, `${code}: ${message}`, options);
  }
}
