import { DataSource, type MixedList, type EntitySchema } from 'typeorm';
import { PersistenceException, PersistenceExceptionCode } from './persistence.exception';

/** A Postgres schema name keyfleet accepts: it is interpolated into DDL, so it must be a plain identifier. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export interface ServiceDataSourceOptions {
  /** `postgres://user:password@host:port/database`. */
  readonly url: string;
  /** The service's own schema (one schema per service, owned by that service alone). */
  readonly schema: string;
  /** Shown in `pg_stat_activity`, so operators can tell connections apart. */
  readonly applicationName: string;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- TypeORM's own type for entity lists
  readonly entities: MixedList<Function | string | EntitySchema>;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- TypeORM's own type for migration lists
  readonly migrations: MixedList<Function | string>;
  /** Connection pool size; default 10. */
  readonly poolSize?: number;
}

/** Removes the password from a connection URL so it can appear in a log or an error. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}

/**
 * Builds the TypeORM data source of one service: its tables live in its own schema, which
 * is also the connection's `search_path`, and the migrations table is kept there too.
 * `synchronize` is always off: the schema only ever changes through migrations.
 */
export function createServiceDataSource(options: ServiceDataSourceOptions): DataSource {
  if (!SCHEMA_NAME.test(options.schema)) {
    throw new PersistenceException(
      PersistenceExceptionCode.InvalidSchemaName,
      `schema name must match ${SCHEMA_NAME.source}`,
    );
  }
  return new DataSource({
    type: 'postgres',
    url: options.url,
    schema: options.schema,
    applicationName: options.applicationName,
    entities: options.entities,
    migrations: options.migrations,
    migrationsTableName: 'typeorm_migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: false,
    poolSize: options.poolSize ?? 10,
    extra: { options: `-c search_path=${options.schema}` },
  });
}

/**
 * Connects, creates the service's schema when missing and runs pending migrations.
 * Errors carry the redacted URL, never the password.
 */
export async function initializeServiceDataSource(dataSource: DataSource): Promise<DataSource> {
  const options = dataSource.options as { url?: string; schema?: string };
  const where = redactUrl(options.url ?? '');
  try {
    await dataSource.initialize();
  } catch (err) {
    throw new PersistenceException(PersistenceExceptionCode.ConnectionFailed, `cannot connect to ${where}`, { cause: err });
  }
  try {
    await dataSource.query(`CREATE SCHEMA IF NOT EXISTS "${options.schema ?? 'public'}"`);
    await dataSource.runMigrations({ transaction: 'each' });
  } catch (err) {
    await dataSource.destroy();
    throw new PersistenceException(
      PersistenceExceptionCode.MigrationFailed,
      `migrations of schema ${options.schema ?? 'public'} failed`,
      { cause: err },
    );
  }
  return dataSource;
}
