// Development PKI for the crypto gateway's mTLS (docs/crypto-gateway-security.md).
//   node -r @swc-node/register tools/pki/dev-pki.ts <dir> [--client <name> ...]
// Makes, when missing, in <dir> (0700): a development root CA, the gateway's server
// certificate and one client certificate per caller, as PEM files `<name>.crt` and
// `<name>.key` (keys 0600). Idempotent: files that are present, match their key, chain to
// the CA and stay valid for more than 30 days are kept; anything else is made again (a new
// CA re-issues every certificate, since the old ones no longer chain to it).
// @peculiar/x509 resolves its parsers through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import { X509Certificate, createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const TRUST_DOMAIN = 'keyfleet.local';
/** keyfleet's own services: their certificates are `service` identities (HsmAdmin callers). */
const KEYFLEET_SERVICES = ['key-service', 'rotation-service', 'migration-service', 'audit-service'];
const DEFAULT_CLIENTS = ['app-payments', 'app-demo', 'key-service', 'rotation-service', 'migration-service'];
const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' };
const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' };
const DAY_MS = 86_400_000;
const RENEW_WITHIN_MS = 30 * DAY_MS;
const CA_SUBJECT = 'CN=keyfleet development CA, O=keyfleet';

type Keys = webcrypto.CryptoKeyPair;
interface Authority {
  readonly cert: x509.X509Certificate;
  readonly signingKey: webcrypto.CryptoKey;
}
interface Leaf {
  readonly name: string;
  readonly usage: 'server' | 'client';
  readonly sans: { type: 'dns' | 'ip' | 'url'; value: string }[];
}

/** `app-*` names are applications; keyfleet's service names are services; anything else is refused. */
function clientLeaf(name: string): Leaf {
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(name) || name === 'ca' || name === 'server') throw new Error(`invalid client name ${name}: lower-case letters, digits and -`);
  const kind = name.startsWith('app-') ? 'app' : KEYFLEET_SERVICES.includes(name) ? 'service' : undefined;
  if (!kind) throw new Error(`client ${name}: applications' names start with app-; services are ${KEYFLEET_SERVICES.join(', ')}`);
  return { name, usage: 'client', sans: [{ type: 'url', value: `spiffe://${TRUST_DOMAIN}/${kind}/${name}` }] };
}

/** Is `<name>.crt` + `<name>.key` present, consistent, issued by `issuer` and valid for more than 30 days? */
function usable(dir: string, name: string, issuer: X509Certificate | 'self'): boolean {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  if (!existsSync(certFile) || !existsSync(keyFile)) return false;
  try {
    const cert = new X509Certificate(readFileSync(certFile));
    const signer = issuer === 'self' ? cert : issuer;
    const fresh = Date.parse(cert.validTo) - Date.now() > RENEW_WITHIN_MS;
    return fresh && cert.checkPrivateKey(createPrivateKey(readFileSync(keyFile))) && cert.checkIssued(signer) && cert.verify(signer.publicKey);
  } catch {
    // Unreadable or corrupt files are made again, like missing ones.
    return false;
  }
}

/** Writes through a temporary file, so a crash never leaves half a PEM behind. */
function writePem(file: string, pem: string, mode: number): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, pem, { mode });
  chmodSync(temporary, mode);
  renameSync(temporary, file);
}

async function writeKeyAndCert(dir: string, name: string, keys: Keys, cert: x509.X509Certificate): Promise<void> {
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  writePem(join(dir, `${name}.key`), x509.PemConverter.encode(pkcs8, 'PRIVATE KEY'), 0o600);
  writePem(join(dir, `${name}.crt`), cert.toString('pem'), 0o644);
}

const serialNumber = (): string => {
  const bytes = randomBytes(16);
  // Positive and of full length: DER integers with the top bit set would read as negative.
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x40;
  return bytes.toString('hex');
};

// A minute back: certificates made now must already be valid for a peer whose clock runs a little behind.
const validity = (days: number, cap?: Date) => {
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(Math.min(Date.now() + days * DAY_MS, cap?.getTime() ?? Infinity));
  return { notBefore, notAfter };
};

async function makeAuthority(dir: string): Promise<Authority> {
  const keys = await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: CA_SUBJECT,
    ...validity(5 * 365),
    keys,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  await writeKeyAndCert(dir, 'ca', keys, cert);
  return { cert, signingKey: keys.privateKey };
}

async function loadAuthority(dir: string): Promise<Authority> {
  const cert = new x509.X509Certificate(readFileSync(join(dir, 'ca.crt'), 'utf8'));
  const pkcs8 = createPrivateKey(readFileSync(join(dir, 'ca.key'))).export({ format: 'der', type: 'pkcs8' });
  return { cert, signingKey: await webcrypto.subtle.importKey('pkcs8', pkcs8, KEY_ALGORITHM, false, ['sign']) };
}

async function issue(dir: string, ca: Authority, leaf: Leaf): Promise<void> {
  const keys = await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: `CN=${leaf.name === 'server' ? 'crypto-gateway' : leaf.name}, O=keyfleet`,
    issuer: ca.cert.subjectName,
    // Never past the CA's own end: a chain is only as valid as its root.
    ...validity(365, ca.cert.notAfter),
    publicKey: keys.publicKey,
    signingKey: ca.signingKey,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([leaf.usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension(leaf.sans),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert.publicKey),
    ],
  });
  await writeKeyAndCert(dir, leaf.name, keys, cert);
}

function parseArgs(args: string[]): { dir: string; clients: string[] } {
  const [dir, ...rest] = args;
  const clients = [...DEFAULT_CLIENTS];
  for (let i = 0; i < rest.length; i += 2) {
    const name = rest[i + 1];
    if (rest[i] !== '--client' || !name) throw new Error('usage: dev-pki.ts <dir> [--client <name> ...]');
    if (!clients.includes(name)) clients.push(name);
  }
  if (!dir || dir.startsWith('-')) throw new Error('usage: dev-pki.ts <dir> [--client <name> ...]');
  return { dir: resolve(dir), clients };
}

async function main(): Promise<void> {
  const { dir, clients } = parseArgs(process.argv.slice(2));
  const leaves: Leaf[] = [
    { name: 'server', usage: 'server', sans: [{ type: 'dns', value: 'localhost' }, { type: 'ip', value: '127.0.0.1' }] },
    ...clients.map(clientLeaf),
  ];
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);

  const made: string[] = [];
  const ca = usable(dir, 'ca', 'self') ? await loadAuthority(dir) : (made.push('ca'), await makeAuthority(dir));
  const issuer = new X509Certificate(readFileSync(join(dir, 'ca.crt')));
  for (const leaf of leaves) {
    if (!usable(dir, leaf.name, issuer)) {
      await issue(dir, ca, leaf);
      made.push(leaf.name);
    }
    // Keys stay private even if something widened their mode since the last run.
    chmodSync(join(dir, `${leaf.name}.key`), 0o600);
  }
  chmodSync(join(dir, 'ca.key'), 0o600);
  console.log(made.length > 0 ? `dev PKI in ${dir}: made ${made.join(', ')}` : `dev PKI in ${dir}: up to date`);
}

main().catch((err: unknown) => {
  console.error(`dev-pki: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
