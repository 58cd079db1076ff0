import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** File-name-safe form of a token label (`cluster-abc/app_blue` -> `cluster-abc%2Fapp_blue`). */
export function markerName(tokenLabel: string): string {
  return encodeURIComponent(tokenLabel);
}

/**
 * Makes a live PKCS#11 login visible to other processes, as CloudHSM sees every client's
 * login: while a pool is logged in to a token it keeps a marker file
 * `<dir>/<token label>.<pid>.login`. cloudhsm-local reads the folder to refuse a password
 * change (or a user deletion) while the user is logged in. Only used when configured
 * (local mode); a marker whose process is gone counts as logged out.
 */
export class LoginMarker {
  private readonly file: string;

  constructor(
    private readonly dir: string,
    tokenLabel: string,
  ) {
    this.file = join(dir, `${markerName(tokenLabel)}.${process.pid}.login`);
  }

  /** Marks the login (idempotent). */
  mark(): void {
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(this.file, `${new Date().toISOString()}\n`);
  }

  /** Clears the mark at logout (idempotent). */
  clear(): void {
    rmSync(this.file, { force: true });
  }
}

/** True when some live process holds a login marker for the token. */
export function isLoggedInElsewhere(dir: string, tokenLabel: string): boolean {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return false;
  }
  const prefix = `${markerName(tokenLabel)}.`;
  return entries.some((entry) => {
    if (!entry.startsWith(prefix) || !entry.endsWith('.login')) return false;
    const pid = Number(entry.slice(prefix.length, -'.login'.length));
    if (!Number.isInteger(pid) || pid <= 0) return false;
    try {
      process.kill(pid, 0);
      return true;
    } catch (err) {
      // EPERM: the process exists but belongs to someone else; it is alive.
      return (err as NodeJS.ErrnoException).code === 'EPERM';
    }
  });
}
