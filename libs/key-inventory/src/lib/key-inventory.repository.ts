import type { InventoryKey, InventoryKeyVersion } from './key.model';

/**
 * The port through which use cases read and change the inventory. The adapter runs inside
 * the transaction of the message being handled, so the change commits with its events.
 */
export interface KeyInventoryRepository {
  findKey(alias: string): Promise<InventoryKey | null>;
  /** Inserts the key and its first version; fails if the alias exists (concurrent create). */
  insertKey(key: InventoryKey, firstVersion: InventoryKeyVersion): Promise<void>;
}
