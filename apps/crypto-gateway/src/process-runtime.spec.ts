import { allocatorIn, processRuntime } from './process-runtime';

const line = (path: string) => `7f1c2a400000-7f1c2a428000 r--p 00000000 08:01 1234 ${path}`;
const libc = line('/usr/lib/x86_64-linux-gnu/libc.so.6');

describe('processRuntime', () => {
  it('names a preloaded allocator before libc, and libc when nothing replaces its malloc', () => {
    expect(allocatorIn([line('/usr/bin/node'), line('/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4.5.10'), libc].join('\n'))).toBe('tcmalloc');
    expect(allocatorIn([line('/usr/bin/node'), line('/usr/lib/x86_64-linux-gnu/libjemalloc.so.2'), libc].join('\n'))).toBe('jemalloc');
    expect(allocatorIn([line('/usr/bin/node'), libc, line('/usr/lib/x86_64-linux-gnu/libm.so.6')].join('\n'))).toBe('glibc');
    expect(allocatorIn([line('/usr/bin/node'), line('/lib/libc-2.31.so')].join('\n'))).toBe('glibc');
    // musl or an unreadable listing: not guessed.
    expect(allocatorIn([line('/usr/bin/node'), line('/lib/ld-musl-x86_64.so.1')].join('\n'))).toBe('unknown');
  });

  it('reads the allocator once and reports node flags; without /proc it says unknown', () => {
    expect(processRuntime(() => libc)).toEqual({ allocator: 'glibc', nodeFlags: process.execArgv });
    expect(
      processRuntime(() => {
        throw new Error('ENOENT: /proc/self/maps');
      }).allocator,
    ).toBe('unknown');
  });
});
