import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Debian's compiled-in token directory, used when softhsm2.conf names none. */
const DEFAULT_TOKEN_DIR = '/var/lib/softhsm/tokens';

/**
 * SoftHSM2's file object store seen from outside the library: each token is a directory
 * `<tokendir>/<uuid>/` with `token.object` (label and serial number in clear) and one
 * `<object-uuid>.object` (+ `.lock`) per token object.
 *
 * cloudhsm-local needs it for one thing PKCS#11 cannot do: withdraw an object created with
 * CKA_DESTROYABLE=false (a sharee's copy). SoftHSM2 2.6 refuses C_DestroyObject on it
 * (CKR_ACTION_PROHIBITED) and refuses to set CKA_DESTROYABLE after creation, but when the
 * object's file disappears every library instance (this process's and others', sessions
 * already logged in included) stops finding it at its next C_FindObjects and its handles
 * fail with CKR_OBJECT_HANDLE_INVALID (measured; asserted in
 * softhsm-materializer.integration-spec.ts). cloudhsm-local plays the HSM, so it may.
 */
export class SoftHsmTokenDirectory {
  private constructor(private readonly root: string) {}

  /**
   * Reads `directories.tokendir` from a softhsm2.conf; refuses a configuration whose object
   * store is not the file backend (its objects would not be files to remove).
   */
  static fromConfig(confPath: string): SoftHsmTokenDirectory {
    const settings = new Map<string, string>();
    for (const line of readFileSync(confPath, 'utf8').split('\n')) {
      const match = /^\s*([\w.]+)\s*=\s*(.*?)\s*$/.exec(line);
      if (match?.[1] && match[2] !== undefined) settings.set(match[1], match[2]);
    }
    const backend = settings.get('objectstore.backend') ?? 'file';
    if (backend !== 'file') {
      throw new Error(`${confPath}: cloudhsm-local needs objectstore.backend = file (it withdraws sharees' non-destroyable copies by removing their object files), not ${backend}`);
    }
    return new SoftHsmTokenDirectory(resolve(settings.get('directories.tokendir') ?? DEFAULT_TOKEN_DIR));
  }

  /** The directory of the token with this serial number and label (C_GetTokenInfo's, blank-padded as there). */
  tokenDir(serialNumber: string, label: string): string {
    const serial = Buffer.from(serialNumber.padEnd(16, ' '));
    const padded = Buffer.from(label.padEnd(32, ' '));
    for (const entry of readdirSync(this.root, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const tokenObject = join(this.root, entry.name, 'token.object');
      if (!existsSync(tokenObject)) continue;
      const content = readFileSync(tokenObject);
      if (content.includes(serial) && content.includes(padded)) return join(this.root, entry.name);
    }
    throw new Error(`no SoftHSM2 token directory under ${this.root} for token ${label}`);
  }

  /** The object files of a token (`<uuid>.object`, token.object excluded). */
  objectFiles(tokenDir: string): Set<string> {
    return new Set(readdirSync(tokenDir).filter((name) => name.endsWith('.object') && name !== 'token.object'));
  }

  /**
   * The one object file that appeared since `before` was listed. The materialiser creates
   * the token objects of cloudhsm-local's tokens one at a time, so exactly one is new; if
   * another process created token objects meanwhile the answer would be a guess, so it fails.
   */
  newObjectFile(tokenDir: string, before: ReadonlySet<string>): string {
    const added = [...this.objectFiles(tokenDir)].filter((name) => !before.has(name));
    if (added.length !== 1 || !added[0]) throw new Error(`expected one new object file in ${tokenDir}, found ${added.length}`);
    return added[0];
  }

  /** Removes a token object behind SoftHSM2's back: its `.object` file and its `.lock`. */
  removeObject(tokenDir: string, objectFile: string): void {
    if (!/^[0-9a-f-]+\.object$/.test(objectFile)) throw new Error(`not a SoftHSM2 object file name: ${objectFile}`);
    rmSync(join(tokenDir, objectFile), { force: true });
    rmSync(join(tokenDir, objectFile.replace(/\.object$/, '.lock')), { force: true });
  }
}
