import type { KeySpec, KeyUsage } from '../keys/key-directory';

/** A key object on one cluster, as its admin interface describes it (never material). */
export interface HsmKeyInfo {
  readonly reference: string;
  readonly label: string;
  /** `secret-key`, `private-key` or `public-key`. */
  readonly keyClass: string;
  readonly keyType: string;
  readonly owners: readonly string[];
  readonly sharedWith: readonly string[];
  readonly extractable: boolean;
}

/** Wrapping mechanisms: RSA-AES (CKM_RSA_AES_KEY_WRAP), RSA-OAEP, AES key wrap with padding (RFC 5649), AES-GCM. */
export type WrapMechanismName = 'RSA_AES' | 'RSA_OAEP' | 'AES_KEY_WRAP_PAD' | 'AES_GCM';
export type WrapHashName = 'SHA1' | 'SHA256' | 'SHA384' | 'SHA512';

/** What a key selection on a cluster names: every object with the label, or one class of them. */
export interface HsmKeySelector {
  readonly label: string;
  readonly keyClass?: 'secret-key' | 'private-key' | 'public-key';
}

/**
 * The admin plane of one cluster (implemented by the app over cloudhsm-cli). Key operations
 * run as the crypto user of the cluster's pool, so the pool's token holds what is made;
 * user management runs as the cluster's admin.
 */
export interface ClusterAdmin {
  readonly clusterId: string;
  /** The crypto user key operations run as (the owner of the keys the gateway makes). */
  readonly cryptoUser: () => Promise<string>;
  /** Makes a token key (a pair for EC and RSA: both objects labelled `label`). @returns the objects made */
  generateKey(request: { readonly spec: KeySpec; readonly usage: KeyUsage; readonly label: string; readonly extractable: boolean; readonly shareWith: readonly string[] }): Promise<readonly HsmKeyInfo[]>;
  /** Every object matching, as the pool's crypto user sees them. */
  findKeys(selector?: HsmKeySelector): Promise<readonly HsmKeyInfo[]>;
  deleteKey(selector: HsmKeySelector): Promise<void>;
  shareKey(selector: HsmKeySelector, username: string, share: boolean): Promise<void>;
  wrapKey(request: { readonly payload: HsmKeySelector; readonly wrapping: HsmKeySelector; readonly mechanism: WrapMechanismName; readonly hash: WrapHashName }): Promise<{ readonly wrapped: Buffer; readonly iv?: Buffer }>;
  unwrapKey(request: {
    readonly unwrapping: HsmKeySelector;
    readonly mechanism: WrapMechanismName;
    readonly hash: WrapHashName;
    readonly wrapped: Buffer;
    readonly iv?: Buffer;
    readonly spec: KeySpec;
    readonly usage: KeyUsage;
    readonly label: string;
    readonly extractable: boolean;
  }): Promise<HsmKeyInfo>;
  importPublicKey(request: { readonly pem: string; readonly label: string; readonly keyClass: 'rsa-public' | 'ec-public'; readonly wrap: boolean; readonly verify: boolean }): Promise<HsmKeyInfo>;
  /** Copies one object to a clone of this cluster; the destination's pool user logs in there. */
  replicateKey(selector: HsmKeySelector, destinationClusterId: string): Promise<void>;
  listUsers(): Promise<readonly { readonly username: string; readonly role: string }[]>;
  createCryptoUser(username: string, password: string): Promise<void>;
  deleteCryptoUser(username: string): Promise<void>;
  changePassword(username: string, password: string): Promise<void>;
}

/** The clusters that have an admin interface configured. */
export interface ClusterAdminSet {
  get(clusterId: string): ClusterAdmin | undefined;
}

/** Credentials kept in the secret store (Secrets Manager protocol): `{"username","password"}` under a staging label. */
export interface CredentialStore {
  read(secretId: string, stage: 'AWSCURRENT' | 'AWSPENDING'): Promise<{ readonly username: string; readonly password: string }>;
}

/** Tells the data plane that a label's objects changed on a cluster (drops cached handles). */
export interface KeyHandleInvalidator {
  invalidate(clusterId: string, label: string): void;
}
