import type { KeyState, KeyType, KeyUsage } from '@keyfleet/contracts';

/** A key as key-service's inventory knows it: the alias and its current version. */
export interface InventoryKey {
  readonly alias: string;
  readonly keyType: KeyType;
  readonly usage: readonly KeyUsage[];
  readonly description: string | null;
  readonly currentVersion: number;
  readonly createdAt: Date;
}

/** One version of a key; its HSM label is derived from alias and version. */
export interface InventoryKeyVersion {
  readonly alias: string;
  readonly version: number;
  readonly label: string;
  readonly state: KeyState;
}

/**
 * The HSM label of a key version: `<alias>/v<version>`. Labels are how the gateway finds
 * key handles; CloudHSM allows up to 127 characters, aliases are at most 64.
 */
export function labelOf(alias: string, version: number): string {
  return `${alias}/v${version}`;
}
