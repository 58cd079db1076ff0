import type { EntityManager } from 'typeorm';
import type { KeyType, KeyUsage } from '@keyfleet/contracts';
import type { InventoryKey, InventoryKeyVersion, KeyInventoryRepository } from '@keyfleet/key-inventory';

interface KeyRow {
  alias: string;
  key_type: KeyType;
  usage: KeyUsage[];
  description: string | null;
  current_version: number;
  created_at: Date;
}

/** The inventory in Postgres, bound to the transaction of the message being handled. */
export class PostgresKeyInventoryRepository implements KeyInventoryRepository {
  constructor(private readonly em: EntityManager) {}

  async findKey(alias: string): Promise<InventoryKey | null> {
    const [row] = await this.em.query<KeyRow[]>(
      `SELECT alias, key_type, usage, description, current_version, created_at FROM keys WHERE alias = $1`,
      [alias],
    );
    return row
      ? {
          alias: row.alias,
          keyType: row.key_type,
          usage: row.usage,
          description: row.description,
          currentVersion: row.current_version,
          createdAt: row.created_at,
        }
      : null;
  }

  async insertKey(key: InventoryKey, firstVersion: InventoryKeyVersion): Promise<void> {
    await this.em.query(
      `INSERT INTO keys (alias, key_type, usage, description, current_version, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
      [key.alias, key.keyType, key.usage, key.description, key.currentVersion, key.createdAt],
    );
    await this.em.query(`INSERT INTO key_versions (alias, version, label, state) VALUES ($1, $2, $3, $4)`, [
      firstVersion.alias,
      firstVersion.version,
      firstVersion.label,
      firstVersion.state,
    ]);
  }
}
