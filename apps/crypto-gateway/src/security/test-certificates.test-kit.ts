// Certificates made inside the security specs (independent of tools/pki): a CA of the test's
// own, and leaves with whatever SANs a case needs, as PEM and DER.
import 'reflect-metadata';
import { createPrivateKey, createPublicKey, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const KEY = { name: 'ECDSA', namedCurve: 'P-256' };
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' };
const DAY_MS = 86_400_000;

/** Who signs: a certificate and its private key. */
export interface TestIssuer {
  readonly cert: x509.X509Certificate;
  readonly signingKey: webcrypto.CryptoKey;
}

export interface TestAuthority extends TestIssuer {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface TestCertificate {
  readonly certPem: string;
  readonly keyPem: string;
  readonly der: Buffer;
}

export interface TestLeafOptions {
  readonly cn: string;
  readonly uris?: readonly string[];
  readonly dns?: readonly string[];
  readonly ips?: readonly string[];
  readonly usage?: 'client' | 'server';
  readonly validDays?: number;
  /** Certify this existing private key (PKCS#8 PEM) instead of a new one. */
  readonly keyPem?: string;
}

async function keyPem(keys: webcrypto.CryptoKeyPair): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY');
}

async function importKeyPair(pem: string): Promise<webcrypto.CryptoKeyPair> {
  const spki = createPublicKey(createPrivateKey(pem)).export({ format: 'der', type: 'spki' });
  return {
    privateKey: await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(pem), KEY, true, ['sign']),
    publicKey: await webcrypto.subtle.importKey('spki', spki, KEY, true, ['verify']),
  };
}

/** A self-signed CA (ECDSA P-256) for one test. */
export async function makeTestAuthority(cn: string): Promise<TestAuthority> {
  const keys = await webcrypto.subtle.generateKey(KEY, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${cn}`,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 30 * DAY_MS),
    keys,
    signingAlgorithm: SIGNING,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true)],
  });
  return { cert, signingKey: keys.privateKey, certPem: cert.toString('pem'), keyPem: await keyPem(keys) };
}

/** A leaf (ECDSA P-256) signed by `issuer`. */
export async function issueTestCertificate(issuer: TestIssuer, options: TestLeafOptions): Promise<TestCertificate> {
  const keys = options.keyPem ? await importKeyPair(options.keyPem) : await webcrypto.subtle.generateKey(KEY, true, ['sign', 'verify']);
  const sans = [
    ...(options.uris ?? []).map((value) => ({ type: 'url' as const, value })),
    ...(options.dns ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(options.ips ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  const cert = await x509.X509CertificateGenerator.create({
    subject: `CN=${options.cn}`,
    issuer: issuer.cert.subjectName,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + (options.validDays ?? 10) * DAY_MS),
    publicKey: keys.publicKey,
    signingKey: issuer.signingKey,
    signingAlgorithm: SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.ExtendedKeyUsageExtension([options.usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth]),
      ...(sans.length > 0 ? [new x509.SubjectAlternativeNameExtension(sans)] : []),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await keyPem(keys), der: Buffer.from(cert.rawData) };
}

/** A CA known only by its PEM files (e.g. the dev PKI's), as an issuer here. */
export async function loadTestIssuer(certPem: string, keyPemText: string): Promise<TestIssuer> {
  const signingKey = await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(keyPemText), KEY, false, ['sign']);
  return { cert: new x509.X509Certificate(certPem), signingKey };
}
