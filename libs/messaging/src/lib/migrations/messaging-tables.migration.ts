import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The outbox and inbox tables of a service, created in the service's own schema (the
 * connection's search_path). Add this migration to every service that publishes or consumes.
 */
export class MessagingTables1763800000000 implements MigrationInterface {
  readonly name = 'MessagingTables1763800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // seq orders the relay (per aggregate order = insertion order); message_id is the
    // envelope id, unique so a message can never be queued twice.
    await queryRunner.query(`
      CREATE TABLE outbox (
        seq            bigserial   PRIMARY KEY,
        message_id     uuid        NOT NULL UNIQUE,
        message_type   text        NOT NULL,
        correlation_id uuid        NOT NULL,
        topic          text        NOT NULL,
        message_key    text        NOT NULL,
        payload        bytea       NOT NULL,
        created_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
        published_at   timestamptz
      )`);
    await queryRunner.query(`CREATE INDEX outbox_unpublished ON outbox (seq) WHERE published_at IS NULL`);
    await queryRunner.query(`CREATE INDEX outbox_published_at ON outbox (published_at) WHERE published_at IS NOT NULL`);
    // One row per (consumer, message) processed: written in the same transaction as the
    // effect, so a redelivered message finds its row and has no second effect.
    await queryRunner.query(`
      CREATE TABLE inbox (
        consumer     text        NOT NULL,
        message_id   uuid        NOT NULL,
        processed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        PRIMARY KEY (consumer, message_id)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE inbox`);
    await queryRunner.query(`DROP TABLE outbox`);
  }
}
