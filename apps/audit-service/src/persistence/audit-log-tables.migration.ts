import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The hash-chained audit log: append-only, one row per audited message. */
export class AuditLogTables1763800002000 implements MigrationInterface {
  readonly name = 'AuditLogTables1763800002000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE audit_records (
        sequence       bigint      PRIMARY KEY,
        previous_hash  char(64)    NOT NULL,
        record_hash    char(64)    NOT NULL UNIQUE,
        message_id     uuid        NOT NULL UNIQUE,
        message_type   text        NOT NULL,
        source         text        NOT NULL,
        subject        text        NOT NULL,
        actor          text        NOT NULL,
        correlation_id uuid        NOT NULL,
        causation_id   uuid,
        time           text        NOT NULL,
        data           jsonb       NOT NULL,
        appended_at    timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
    await queryRunner.query(`CREATE INDEX audit_records_subject ON audit_records (subject, sequence)`);
    await queryRunner.query(`CREATE INDEX audit_records_correlation ON audit_records (correlation_id)`);
    // Append-only: the log's own database role cannot rewrite history by accident.
    await queryRunner.query(`
      CREATE FUNCTION audit_records_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'audit_records is append-only'; END $$`);
    await queryRunner.query(`
      CREATE TRIGGER audit_records_no_update_delete BEFORE UPDATE OR DELETE ON audit_records
      FOR EACH ROW EXECUTE FUNCTION audit_records_append_only()`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE audit_records`);
    await queryRunner.query(`DROP FUNCTION audit_records_append_only()`);
  }
}
