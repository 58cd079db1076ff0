import type { MigrationInterface, QueryRunner } from 'typeorm';

/** key-service's inventory: keys by alias and their versions (labels derived from both). */
export class KeyInventoryTables1763800001000 implements MigrationInterface {
  readonly name = 'KeyInventoryTables1763800001000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE keys (
        alias           text        PRIMARY KEY,
        key_type        text        NOT NULL,
        usage           text[]      NOT NULL,
        description     text,
        current_version integer     NOT NULL,
        created_at      timestamptz NOT NULL
      )`);
    await queryRunner.query(`
      CREATE TABLE key_versions (
        alias      text        NOT NULL REFERENCES keys (alias),
        version    integer     NOT NULL,
        label      text        NOT NULL UNIQUE,
        state      text        NOT NULL,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        PRIMARY KEY (alias, version)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE key_versions`);
    await queryRunner.query(`DROP TABLE keys`);
  }
}
