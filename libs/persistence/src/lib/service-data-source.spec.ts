import { PersistenceException } from './persistence.exception';
import { createServiceDataSource, redactUrl } from './service-data-source';

describe(createServiceDataSource.name, () => {
  const base = { url: 'postgres://u:p@127.0.0.1:5432/db', applicationName: 't', entities: [], migrations: [] };

  it('keeps tables, migrations and search_path in the service schema', () => {
    const sut = createServiceDataSource({ ...base, schema: 'key_service' });
    expect(sut.options).toMatchObject({
      schema: 'key_service',
      synchronize: false,
      migrationsTableName: 'typeorm_migrations',
      extra: { options: '-c search_path=key_service' },
    });
  });

  it.each(['Key-Service', 'a;drop table x', '', '1abc'])('refuses the schema name %j', (schema) => {
    expect(() => createServiceDataSource({ ...base, schema })).toThrow(PersistenceException);
  });
});

describe(redactUrl.name, () => {
  it('removes the password from a connection URL', () => {
    expect(redactUrl('postgres://keyfleet:s3cr3t@127.0.0.1:5432/keyfleet')).toBe('postgres://keyfleet:***@127.0.0.1:5432/keyfleet');
  });

  it('leaves a URL without a password alone', () => {
    expect(redactUrl('postgres://127.0.0.1/keyfleet')).toBe('postgres://127.0.0.1/keyfleet');
  });
});
