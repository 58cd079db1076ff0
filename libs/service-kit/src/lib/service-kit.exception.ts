import { KeyfleetException } from '@keyfleet/errors';

/** Why a service could not start. */
export enum ServiceKitExceptionCode {
  /** Nest could not build the application (a provider failed: database, Kafka...). Nest has logged the cause. */
  AppCreationFailed = 'APP_CREATION_FAILED',
  /** The app's `configure` step failed (e.g. its gRPC server could not bind). */
  ConfigureFailed = 'CONFIGURE_FAILED',
  /** The HTTP server could not listen (address in use, no permission). */
  ListenFailed = 'LISTEN_FAILED',
}

/** The exception of `@keyfleet/service-kit`'s bootstrap; `cause` is the underlying error. */
export class ServiceKitException extends KeyfleetException<ServiceKitExceptionCode> {
  constructor(code: ServiceKitExceptionCode, message: string, options: { cause: unknown }) {
    super(code, message, options);
  }
}
