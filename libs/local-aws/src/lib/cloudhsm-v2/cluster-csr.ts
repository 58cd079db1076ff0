// @peculiar/x509 resolves its parsers through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

// @peculiar/x509 builds PKCS#10 requests (Node's crypto module parses certificates but
// cannot create a CSR); it runs on Node's WebCrypto.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALGORITHM = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };

/**
 * The cluster's certificate signing request (PEM): an RSA-2048 key pair made for the
 * cluster, as CloudHSM makes one on the first HSM. The private key is discarded: the
 * emulator only needs to recognise its public key in the certificate the owner signs.
 */
export async function createClusterCsr(clusterId: string): Promise<string> {
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${clusterId}, O=cloudhsm-local, OU=keyfleet`,
    keys,
    signingAlgorithm: ALGORITHM,
  });
  return csr.toString('pem');
}

/** The SubjectPublicKeyInfo (DER) of a CSR. */
export function publicKeyOfCsr(csrPem: string): Buffer {
  return Buffer.from(new x509.Pkcs10CertificateRequest(csrPem).publicKey.rawData);
}
