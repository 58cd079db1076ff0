// The development PKI tool (tools/pki/dev-pki.sh), run as the platform runs it, and a real
// mTLS handshake with what it makes. Lives here because Jest's unit tests are under apps/ and
// libs/, and this is the code that consumes those certificates.
import 'reflect-metadata';
import { execFileSync, spawnSync } from 'node:child_process';
import { X509Certificate, createHash, createPrivateKey } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import * as x509 from '@peculiar/x509';
import { extractCallerIdentity } from './caller-identity';
import { issueTestCertificate, loadTestIssuer, makeTestAuthority } from './test-certificates.test-kit';

const SCRIPT = join(__dirname, '../../../../tools/pki/dev-pki.sh');
const DAY_MS = 86_400_000;
const CLIENTS = {
  'app-payments': 'spiffe://keyfleet.local/app/app-payments',
  'app-demo': 'spiffe://keyfleet.local/app/app-demo',
  'key-service': 'spiffe://keyfleet.local/service/key-service',
  'rotation-service': 'spiffe://keyfleet.local/service/rotation-service',
  'migration-service': 'spiffe://keyfleet.local/service/migration-service',
};
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

const runPki = (dir: string, ...args: string[]): string => execFileSync('bash', [SCRIPT, dir, ...args], { encoding: 'utf8' });
const read = (dir: string, file: string): Buffer => readFileSync(join(dir, file));
const certOf = (dir: string, name: string): X509Certificate => new X509Certificate(read(dir, `${name}.crt`));
const daysLeft = (cert: X509Certificate): number => (Date.parse(cert.validTo) - Date.now()) / DAY_MS;

/** Every file's content hash and modification time. */
function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(dir)
      .sort()
      .map((file) => [file, `${createHash('sha256').update(read(dir, file)).digest('hex')} ${statSync(join(dir, file)).mtimeMs}`]),
  );
}

describe('tools/pki/dev-pki.sh', () => {
  const temporary: string[] = [];
  const freshDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'dev-pki-'));
    temporary.push(dir);
    return join(dir, 'pki');
  };
  let dir: string;
  let ca: X509Certificate;

  beforeAll(() => {
    dir = freshDir();
    runPki(dir);
    ca = certOf(dir, 'ca');
  }, 60_000);

  afterAll(() => {
    for (const path of temporary) rmSync(path, { recursive: true, force: true });
  });

  it('makes a CA, the server certificate and the default clients, nothing else', () => {
    const names = ['ca', 'server', ...Object.keys(CLIENTS)].sort();

    expect(readdirSync(dir).sort()).toEqual(names.flatMap((name) => [`${name}.crt`, `${name}.key`]).sort());
  });

  it('keeps private keys 0600 in a 0700 directory', () => {
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.key'))) {
      expect({ file, mode: statSync(join(dir, file)).mode & 0o777 }).toEqual({ file, mode: 0o600 });
    }
  });

  it('makes a self-signed root CA for five years that may sign end entities only', () => {
    const parsed = new x509.X509Certificate(read(dir, 'ca.crt').toString());
    const constraints = parsed.getExtension(x509.BasicConstraintsExtension);
    const usages = parsed.getExtension(x509.KeyUsagesExtension);

    expect(ca.ca).toBe(true);
    expect(ca.verify(ca.publicKey)).toBe(true);
    expect(ca.publicKey.asymmetricKeyDetails).toEqual({ namedCurve: 'prime256v1' });
    expect(constraints).toMatchObject({ ca: true, pathLength: 0, critical: true });
    expect(usages && usages.usages & x509.KeyUsageFlags.keyCertSign).toBe(x509.KeyUsageFlags.keyCertSign);
    expect(daysLeft(ca)).toBeGreaterThan(5 * 365 - 2);
    expect(daysLeft(ca)).toBeLessThanOrEqual(5 * 365);
  });

  it('makes a server certificate for localhost and 127.0.0.1 that chains to the CA', () => {
    const server = certOf(dir, 'server');

    expect(server.verify(ca.publicKey)).toBe(true);
    expect(server.checkIssued(ca)).toBe(true);
    expect(server.ca).toBe(false);
    expect(server.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1');
    expect(server.keyUsage).toEqual([SERVER_AUTH]);
    expect(daysLeft(server)).toBeGreaterThan(363);
    expect(daysLeft(server)).toBeLessThanOrEqual(365);
  });

  it.each(Object.entries(CLIENTS))('makes a client certificate for %s with its SPIFFE ID, chained to the CA', (name, uri) => {
    const client = certOf(dir, name);

    expect(client.verify(ca.publicKey)).toBe(true);
    expect(client.subjectAltName).toBe(`URI:${uri}`);
    expect(client.subject).toContain(`CN=${name}`);
    expect(client.keyUsage).toEqual([CLIENT_AUTH]);
    expect(extractCallerIdentity(client).uri).toBe(uri);
  });

  it('changes nothing when run again', () => {
    const before = snapshot(dir);

    const output = runPki(dir);

    expect(snapshot(dir)).toEqual(before);
    expect(output).toContain('up to date');
  });

  it('adds a client given with --client and leaves the rest alone', () => {
    const before = snapshot(dir);

    runPki(dir, '--client', 'app-ledger');

    expect(snapshot(dir)).toEqual(expect.objectContaining(before));
    expect(certOf(dir, 'app-ledger').subjectAltName).toBe('URI:spiffe://keyfleet.local/app/app-ledger');
    expect(certOf(dir, 'app-ledger').verify(ca.publicKey)).toBe(true);
  });

  it('refuses a client name that is neither an app- nor a keyfleet service', () => {
    const result = spawnSync('bash', [SCRIPT, freshDir(), '--client', 'payments'], { encoding: 'utf8' });

    expect(result.status).toBe(1);
    expect(result.stderr).toContain("client payments: applications' names start with app-");
  });

  it('renews a certificate that expires within 30 days and keeps one that does not', async () => {
    const own = freshDir();
    runPki(own);
    const issuer = await loadTestIssuer(read(own, 'ca.crt').toString(), read(own, 'ca.key').toString());
    const expiring = await issueTestCertificate(issuer, { cn: 'app-demo', uris: [CLIENTS['app-demo']], validDays: 10, keyPem: read(own, 'app-demo.key').toString() });
    const lasting = await issueTestCertificate(issuer, { cn: 'app-payments', uris: [CLIENTS['app-payments']], validDays: 40, keyPem: read(own, 'app-payments.key').toString() });
    writeFileSync(join(own, 'app-demo.crt'), expiring.certPem);
    writeFileSync(join(own, 'app-payments.crt'), lasting.certPem);
    const before = snapshot(own);

    const output = runPki(own);

    const after = snapshot(own);
    expect(output).toContain('made app-demo');
    expect(after['app-demo.crt']).not.toBe(before['app-demo.crt']);
    expect(after['app-demo.key']).not.toBe(before['app-demo.key']);
    expect(daysLeft(certOf(own, 'app-demo'))).toBeGreaterThan(363);
    expect(certOf(own, 'app-demo').checkPrivateKey(createPrivateKey(read(own, 'app-demo.key')))).toBe(true);
    const { ['app-demo.crt']: _crt, ['app-demo.key']: _key, ...untouchedAfter } = after;
    const { ['app-demo.crt']: _crtBefore, ['app-demo.key']: _keyBefore, ...untouchedBefore } = before;
    expect(untouchedAfter).toEqual(untouchedBefore);
  }, 30_000);

  describe('mTLS handshake', () => {
    let server: tls.Server;
    let port: number;
    const accepted: string[] = [];

    beforeAll(async () => {
      server = tls.createServer({ cert: read(dir, 'server.crt'), key: read(dir, 'server.key'), ca: read(dir, 'ca.crt'), requestCert: true, rejectUnauthorized: true }, (socket) => {
        const peer = socket.getPeerCertificate();
        accepted.push(peer.subjectaltname ?? '(none)');
        socket.end(JSON.stringify(extractCallerIdentity(peer)));
      });
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      port = (server.address() as AddressInfo).port;
    });

    afterAll(async () => {
      server.close();
      await once(server, 'close');
    });

    /** The server's verdict on the next connection it drops during the handshake. */
    const refusal = async () => {
      const [, socket] = (await once(server, 'tlsClientError')) as [Error, tls.TLSSocket];
      return { authorized: socket.authorized, authorizationError: socket.authorizationError };
    };

    /** Connects as a client (checking the server against the dev CA and 127.0.0.1) and collects what the server says. */
    const connect = (identity: { cert?: string | Buffer; key?: string | Buffer }) =>
      new Promise<{ data: string; error?: Error }>((resolve) => {
        const socket = tls.connect({ host: '127.0.0.1', port, ca: read(dir, 'ca.crt'), ...identity });
        let data = '';
        let error: Error | undefined;
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => {
          data += chunk;
        });
        socket.on('error', (err: Error) => {
          error = err;
        });
        socket.on('close', () => resolve({ data, ...(error ? { error } : {}) }));
      });

    it('accepts app-demo, and the server reads its SPIFFE ID from the peer certificate', async () => {
      const result = await connect({ cert: read(dir, 'app-demo.crt'), key: read(dir, 'app-demo.key') });

      expect(result.error).toBeUndefined();
      expect(JSON.parse(result.data)).toEqual({ uri: CLIENTS['app-demo'], kind: 'app', name: 'app-demo' });
      expect(accepted).toContain(`URI:${CLIENTS['app-demo']}`);
    });

    it('rejects a certificate from another CA, even with the same SPIFFE ID', async () => {
      const rogueCa = await makeTestAuthority('keyfleet development CA');
      const rogue = await issueTestCertificate(rogueCa, { cn: 'app-demo', uris: [CLIENTS['app-demo']] });
      const refused = refusal();
      const countBefore = accepted.length;

      const result = await connect({ cert: rogue.certPem, key: rogue.keyPem });

      // Node checks the client's chain once the handshake is done and drops the connection unverified.
      expect(await refused).toEqual({ authorized: false, authorizationError: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
      expect(result.data).toBe('');
      expect(accepted).toHaveLength(countBefore);
    });

    it('rejects a client without a certificate', async () => {
      const refused = refusal();
      const countBefore = accepted.length;

      const result = await connect({});

      expect(await refused).toMatchObject({ authorized: false });
      expect(result.data).toBe('');
      expect(accepted).toHaveLength(countBefore);
    });
  });
});
