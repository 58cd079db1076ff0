import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { PROTO_DIR, PROTO_LOADER_OPTIONS, ProtoFiles } from '@keyfleet/contracts';

/** Where the gateway is and who we are (mTLS). */
export interface CryptoClientOptions {
  /** host:port of the gateway's gRPC endpoint. */
  readonly address: string;
  /** PEM files: the CA that signed the gateway's certificate, and this client's certificate and key. */
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** Extra channel options (e.g. `grpc.max_send_message_length`). */
  readonly channelOptions?: grpc.ChannelOptions;
}


/** One unary RPC as a promise; responses are plain objects with camelCase fields (bytes as Buffers). */
export type Unary = (request: object, options?: { deadline?: grpc.Deadline }) => Promise<Record<string, unknown>>;

const METHODS = {
  Crypto: [
    'Encrypt',
    'Decrypt',
    'GenerateDataKey',
    'GenerateDataKeyWithoutPlaintext',
    'Sign',
    'Verify',
    'GenerateMac',
    'VerifyMac',
    'GetPublicKey',
    'GenerateRandom',
    'EncryptBatch',
    'DecryptBatch',
    'SignBatch',
  ],
  HsmAdmin: [
    'GenerateKey',
    'DestroyKeyVersion',
    'DescribeKey',
    'ListKeys',
    'ShareKey',
    'UnshareKey',
    'WrapKey',
    'UnwrapKey',
    'ImportPublicKey',
    'ReplicateKey',
    'SetKeyState',
    'ListCryptoUsers',
    'CreateCryptoUser',
    'DeleteCryptoUser',
    'ChangeCryptoUserPassword',
    'SetRoutingWeights',
    'SwitchCryptoUser',
    'DrainCluster',
    'ResumeCluster',
    'GetClusterStatus',
  ],
} as const;

/** A gateway client with promise methods named as the RPCs, e.g. `call.Encrypt({...})`. */
export interface GatewayClient<S extends GatewayService = 'Crypto'> {
  readonly call: Readonly<Record<(typeof METHODS)[S][number], Unary>>;
  close(): void;
}

/** The gateway's two services: `keyfleet.crypto.v1.Crypto` (applications) and `keyfleet.hsm.v1.HsmAdmin` (keyfleet services). */
export type GatewayService = 'Crypto' | 'HsmAdmin';

/** Loads a service definition from the shipped proto files. */
export function loadGatewayService(service: GatewayService): grpc.ServiceClientConstructor {
  const definition = protoLoader.loadSync(ProtoFiles[service], { ...PROTO_LOADER_OPTIONS, includeDirs: [PROTO_DIR] });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    keyfleet: { crypto: { v1: { Crypto: grpc.ServiceClientConstructor } }; hsm: { v1: { HsmAdmin: grpc.ServiceClientConstructor } } };
  };
  return service === 'Crypto' ? loaded.keyfleet.crypto.v1.Crypto : loaded.keyfleet.hsm.v1.HsmAdmin;
}

/** Connects to one of the gateway's services with mTLS. */
export function createGatewayClient<S extends GatewayService = 'Crypto'>(service: S, options: CryptoClientOptions): GatewayClient<S> {
  const Service = loadGatewayService(service);
  const credentials = grpc.credentials.createSsl(readFileSync(options.caFile), readFileSync(options.keyFile), readFileSync(options.certFile));
  const client = new Service(options.address, credentials, options.channelOptions ?? {});
  const call: Record<string, Unary> = {};
  for (const name of METHODS[service]) {
    const method = (client as unknown as Record<string, (...args: unknown[]) => unknown>)[name];
    if (typeof method !== 'function') throw new Error(`the ${service} service has no method ${name}`);
    call[name] = (request, callOptions = {}) =>
      new Promise((resolve, reject) => {
        method.call(client, request, new grpc.Metadata(), callOptions, (err: grpc.ServiceError | null, response: Record<string, unknown>) =>
          err ? reject(err) : resolve(response),
        );
      });
  }
  return { call: call as GatewayClient<S>['call'], close: () => client.close() };
}

/** The files of one client identity in a development PKI folder (`<dir>/<name>.crt|.key`, `<dir>/ca.crt`). */
export function devIdentity(pkiDir: string, name: string): Pick<CryptoClientOptions, 'caFile' | 'certFile' | 'keyFile'> {
  return { caFile: join(pkiDir, 'ca.crt'), certFile: join(pkiDir, `${name}.crt`), keyFile: join(pkiDir, `${name}.key`) };
}
