import { join } from 'node:path';

/**
 * The folder holding keyfleet's `.proto` files (`keyfleet/crypto/v1/crypto.proto`, ...), for
 * `@grpc/proto-loader` with `includeDirs: [PROTO_DIR]`. The build copies them beside the
 * compiled code, so the same path works from sources and from `dist/`.
 */
export const PROTO_DIR = join(__dirname, '..', 'proto');

/** Proto files by service, relative to `PROTO_DIR`. */
export const ProtoFiles = Object.freeze({
  Crypto: 'keyfleet/crypto/v1/crypto.proto',
} as const);
