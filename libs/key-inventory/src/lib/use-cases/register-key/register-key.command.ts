import type { Actor, KeyType, KeyUsage } from '@keyfleet/contracts';

/** Register a new key in the inventory (from a `KeyCreateRequestedV1` command message). */
export interface RegisterKeyCommand {
  /** The id and correlation of the command message; events answer with them. */
  readonly commandId: string;
  readonly correlationId: string;
  readonly actor: Actor;
  readonly alias: string;
  readonly keyType: KeyType;
  readonly usage: readonly KeyUsage[];
  readonly description: string | null;
}
