import { mkdirSync, readFileSync, renameSync, writeFileSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * One JSON document on disk, written atomically: a temporary file is written and flushed,
 * then renamed over the old one, so a crash leaves either the old or the new state.
 */
export class StateFile<T> {
  constructor(
    private readonly path: string,
    private readonly initial: () => T,
  ) {}

  load(): T {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return this.initial();
      throw err;
    }
    return JSON.parse(text) as T;
  }

  save(state: T): void {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(state), { mode: 0o600 });
    const fd = openSync(tmp, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
  }
}
