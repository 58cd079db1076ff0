import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { KeyDirectory, type KeyDirectoryConfig } from '@keyfleet/gateway';

interface StoredDirectory extends KeyDirectoryConfig {
  /** Aliases of the clusters file whose keys were destroyed here: not brought back at the next start. */
  readonly retired?: readonly string[];
}

/**
 * The key directory as it is after run-time changes (keys and versions made, replicated or
 * destroyed through HsmAdmin, weights, current versions), kept in `path` so a restart
 * serves what the HSMs hold, not what the clusters file said at first. The clusters file
 * seeds it: its rings and keys are used where the stored directory has none of that name
 * (and its destroyed keys stay destroyed). Written atomically after every change.
 */
export class DirectoryStore {
  constructor(private readonly path: string) {}

  /** The directory: the stored one over the clusters file's. */
  load(seed: KeyDirectoryConfig): KeyDirectory {
    if (!existsSync(this.path)) return this.watch(new KeyDirectory(seed), seed);
    let stored: StoredDirectory;
    try {
      stored = JSON.parse(readFileSync(this.path, 'utf8')) as StoredDirectory;
    } catch (err) {
      throw new Error(`cannot read the stored key directory ${this.path}: ${(err as Error).message}`);
    }
    const retired = new Set(stored.retired ?? []);
    const storedAliases = new Set(stored.keys.map((k) => k.alias));
    const merged: KeyDirectoryConfig = {
      rings: { ...seed.rings, ...stored.rings },
      keys: [...stored.keys, ...seed.keys.filter((k) => !storedAliases.has(k.alias) && !retired.has(k.alias))],
    };
    return this.watch(new KeyDirectory(merged), seed, retired);
  }

  private watch(directory: KeyDirectory, seed: KeyDirectoryConfig, retired: ReadonlySet<string> = new Set()): KeyDirectory {
    directory.onChange(() => {
      const snapshot = directory.snapshot();
      const present = new Set(snapshot.keys.map((k) => k.alias));
      const gone = [...new Set([...retired, ...seed.keys.map((k) => k.alias).filter((a) => !present.has(a))])];
      const stored: StoredDirectory = { ...snapshot, retired: gone };
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
      writeFileSync(`${this.path}.tmp`, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600 });
      renameSync(`${this.path}.tmp`, this.path);
    });
    return directory;
  }
}
