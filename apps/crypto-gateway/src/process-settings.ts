// Process-wide settings that must be in place before any other module loads: imported first by
// main.ts. (Statements in main.ts itself would run only after every import has been loaded,
// since imports are hoisted.)

// libuv's thread pool runs the PKCS#11 calls (pkcs11js *Async); its default of 4 threads would
// cap the operations in flight far below what a pool's sessions allow. Read at the pool's first use.
process.env['UV_THREADPOOL_SIZE'] ??= '64';
// The stack is Node 20 (decided) and the lock pins the AWS SDK: its notice that releases after
// January 2027 will need Node 22 would otherwise be the gateway's only non-JSON output (stderr).
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

export {};
