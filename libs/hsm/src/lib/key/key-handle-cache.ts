/** The kinds of key object the gateway looks up. */
export type KeyObjectClass = 'secret' | 'private' | 'public';

/** A key object found in the token, with what the operations need to know about it. */
export interface CachedKey {
  readonly handle: Buffer;
  /** CKA_KEY_TYPE (CKK_AES, CKK_EC, CKK_RSA, CKK_GENERIC_SECRET, ...). */
  readonly keyType: number;
  /** EC keys: bytes of the curve order (32 for P-256, 48 for P-384). */
  readonly orderBytes?: number;
}

/**
 * Key handles by label and class, filled on first use. Handles are valid only within the
 * library instance that found them, so a cache belongs to one pool (one instance) and is
 * cleared when that instance is re-initialised; a key event or an invalid-handle error
 * drops one entry.
 */
export class KeyHandleCache {
  private readonly entries = new Map<string, CachedKey>();

  get(label: string, keyClass: KeyObjectClass): CachedKey | undefined {
    return this.entries.get(`${keyClass}:${label}`);
  }

  set(label: string, keyClass: KeyObjectClass, key: CachedKey): void {
    this.entries.set(`${keyClass}:${label}`, key);
  }

  /** Forgets every object of `label` (all classes). */
  invalidate(label: string): void {
    for (const keyClass of ['secret', 'private', 'public'] as const) this.entries.delete(`${keyClass}:${label}`);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
