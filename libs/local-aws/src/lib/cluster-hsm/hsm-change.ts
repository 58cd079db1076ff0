/**
 * What changed inside a cluster's HSMs, for whoever mirrors it into PKCS#11 tokens
 * (cloudhsm-local's SoftHSM2 materialiser). Passwords and key bytes travel in memory only.
 */
export type HsmChange =
  | { readonly kind: 'user-created'; readonly clusterId: string; readonly username: string; readonly password: string }
  | { readonly kind: 'user-deleted'; readonly clusterId: string; readonly username: string }
  | { readonly kind: 'password-changed'; readonly clusterId: string; readonly username: string; readonly password: string }
  | {
      readonly kind: 'key-available';
      readonly clusterId: string;
      readonly username: string;
      readonly key: {
        readonly ref: string;
        readonly label: string;
        /** EC and RSA keys: `material` is PKCS#8 DER (private) or SPKI DER (public). */
        readonly keyType: 'aes' | 'des3' | 'generic-secret' | 'ec-private' | 'ec-public' | 'rsa-private' | 'rsa-public';
        readonly material: Buffer;
        readonly attributes: Readonly<Record<string, string | number | boolean>>;
        /** A sharee's copy: usable, never wrapped, exported, modified or deleted by that user. */
        readonly shared: boolean;
      };
    }
  | { readonly kind: 'key-withdrawn'; readonly clusterId: string; readonly username: string; readonly ref: string };

/**
 * Mirrors HSM changes elsewhere. Called before the change is recorded: if it throws, the
 * command fails and nothing is recorded.
 */
export interface HsmChangeListener {
  apply(change: HsmChange): void;
}

/**
 * Tells whether a crypto user is logged in somewhere right now. CloudHSM sees every
 * client's login; locally the PKCS#11 side leaves markers (see `@keyfleet/hsm`'s LoginMarker).
 */
export interface LoginProbe {
  isLoggedIn(clusterId: string, username: string): boolean;
}
