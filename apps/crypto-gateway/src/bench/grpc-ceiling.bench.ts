// The gRPC ceiling of this machine: a grpc-js server that answers Encrypt at once (a canned
// 1 KiB ciphertext; no Nest, no policy, no HSM, no audit) over the same mTLS and proto as the
// gateway, in this process. What ghz measures against it is what grpc-js and ghz alone can do
// here, so it bounds the gateway's unary figures whatever the gateway does.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadGatewayService } from '@keyfleet/crypto-client';

/** A running echo server. */
export interface CeilingServer {
  readonly address: string;
  close(): Promise<void>;
}

/** Starts the echo server on a free port of 127.0.0.1 with the gateway's server certificate from `pkiDir`. */
export async function startCeilingServer(pkiDir: string): Promise<CeilingServer> {
  const server = new grpc.Server();
  const answer = { ciphertext: Buffer.alloc(1024 + 16 + 30), keyAlias: 'orders', keyVersion: 2 };
  server.addService(loadGatewayService('Crypto').service, {
    Encrypt: (_call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => callback(null, answer),
  });
  const pem = (name: string) => readFileSync(join(pkiDir, name));
  const credentials = grpc.ServerCredentials.createSsl(pem('ca.crt'), [{ cert_chain: pem('server.crt'), private_key: pem('server.key') }], true);
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', credentials, (err, bound) => (err ? reject(err) : resolve(bound))));
  return {
    address: `127.0.0.1:${port}`,
    // tryShutdown waits for every session to end; one that never does (seen once after ghz had
    // exited) would hold the benchmark forever, so after 2 s the rest are cut.
    close: () =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 2_000);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}
