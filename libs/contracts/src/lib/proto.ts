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
  HsmAdmin: 'keyfleet/hsm/v1/hsm_admin.proto',
} as const);

/** @grpc/proto-loader settings shared by the gateway and its clients: camelCase fields, enums as names, bytes as Buffers, defaults filled. */
export const PROTO_LOADER_OPTIONS = Object.freeze({ keepCase: false, longs: Number, enums: String, defaults: true, oneofs: true });
