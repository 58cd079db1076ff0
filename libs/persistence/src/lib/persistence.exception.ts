import { KeyfleetException } from '@keyfleet/errors';

/** Why persistence failed. */
export enum PersistenceExceptionCode {
  /** The schema name is not a safe SQL identifier. */
  InvalidSchemaName = 'INVALID_SCHEMA_NAME',
  /** The database could not be reached or refused the connection. */
  ConnectionFailed = 'CONNECTION_FAILED',
  /** A migration failed; the database was left as the last successful migration left it. */
  MigrationFailed = 'MIGRATION_FAILED',
}

/** The one exception of `@keyfleet/persistence`. Messages never contain the connection password. */
export class PersistenceException extends KeyfleetException<PersistenceExceptionCode> {
  constructor(code: PersistenceExceptionCode, message: string, options?: { cause?: unknown }) {
    super(code, `${code}: ${message}`, options);
  }
}
