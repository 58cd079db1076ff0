import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { CreateHsmCommand, InitializeClusterCommand, type CloudHSMV2Client } from '@aws-sdk/client-cloudhsm-v2';
import { createCloudHsmV2Client, createCluster, describeAllClusters } from '@keyfleet/aws';
import { AdjustableClock, INSTANT_TIMINGS, LocalAws } from '@keyfleet/local-aws';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const notBefore = new Date('2026-01-01T00:00:00Z');
const notAfter = new Date('2036-01-01T00:00:00Z');

type KeyPair = webcrypto.CryptoKeyPair;

/** An issuing CA of the cluster owner's (in AWS, the owner's own PKI signs the cluster CSR). */
async function certificateAuthority(name: string): Promise<{ keys: KeyPair; certificate: x509.X509Certificate }> {
  const keys: KeyPair = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: `CN=${name}`,
    notBefore,
    notAfter,
    keys,
    signingAlgorithm: ALG,
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true)],
  });
  return { keys, certificate };
}

async function sign(ca: { keys: KeyPair; certificate: x509.X509Certificate }, publicKey: x509.PublicKey, subject: string): Promise<string> {
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: '02',
    subject,
    issuer: ca.certificate.subject,
    notBefore,
    notAfter,
    signingKey: ca.keys.privateKey,
    publicKey,
    signingAlgorithm: ALG,
  });
  return cert.toString('pem');
}

/** InitializeCluster: the CSR appears with the first HSM; the owner's signed certificate is really verified. */
describe('InitializeCluster through @aws-sdk/client-cloudhsm-v2', () => {
  let dataDir: string;
  let server: Server;
  let localAws: LocalAws;
  let client: CloudHSMV2Client;
  let clusterId: string;
  let csr: x509.Pkcs10CertificateRequest;

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'cloudhsm-init-'));
    localAws = new LocalAws({
      dataDir,
      account: '111122223333',
      clock: new AdjustableClock(() => Date.UTC(2026, 10, 22)),
      timings: { ...INSTANT_TIMINGS, clusterInitializeMs: 60_000 },
    });
    server = createServer(localAws.dispatcher.listener());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    client = createCloudHsmV2Client({
      endpoint: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
    clusterId = (await createCluster(client, { HsmType: 'hsm2m.medium', SubnetIds: ['subnet-0a1b2c3d'] })).ClusterId!;
    const [withoutHsm] = await describeAllClusters(client, { clusterIds: [clusterId] });
    expect(withoutHsm?.Certificates?.ClusterCsr).toBeUndefined();
    await client.send(new CreateHsmCommand({ ClusterId: clusterId, AvailabilityZone: 'us-east-1a' }));
    const [cluster] = await describeAllClusters(client, { clusterIds: [clusterId] });
    csr = new x509.Pkcs10CertificateRequest(cluster!.Certificates!.ClusterCsr!);
  });

  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('exposes a real CSR for the cluster and initializes with a certificate signed by the trust anchor', async () => {
    expect(await csr.verify()).toBe(true);
    expect(csr.subject).toContain(`CN=${clusterId}`);
    const ca = await certificateAuthority('Owner Root CA');
    const signedCert = await sign(ca, csr.publicKey, csr.subject);
    const answer = await client.send(new InitializeClusterCommand({ ClusterId: clusterId, SignedCert: signedCert, TrustAnchor: ca.certificate.toString('pem') }));
    expect(answer.State).toBe('INITIALIZE_IN_PROGRESS');
    localAws.clock.advance(60_000);
    const [cluster] = await describeAllClusters(client, { clusterIds: [clusterId] });
    expect(cluster?.State).toBe('INITIALIZED');
    expect(cluster?.Certificates).toEqual({ ClusterCertificate: signedCert });
  });

  it('refuses a certificate signed by another CA', async () => {
    const owner = await certificateAuthority('Owner Root CA');
    const stranger = await certificateAuthority('Someone Else');
    const signedCert = await sign(stranger, csr.publicKey, csr.subject);
    await expect(client.send(new InitializeClusterCommand({ ClusterId: clusterId, SignedCert: signedCert, TrustAnchor: owner.certificate.toString('pem') }))).rejects.toMatchObject({
      name: 'CloudHsmInvalidRequestException',
      message: 'SignedCert is not signed by the TrustAnchor',
    });
  });

  it('refuses a certificate for another key than the CSR', async () => {
    const ca = await certificateAuthority('Owner Root CA');
    const other: KeyPair = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
    const signedCert = await sign(ca, await x509.PublicKey.create(other.publicKey), csr.subject);
    await expect(client.send(new InitializeClusterCommand({ ClusterId: clusterId, SignedCert: signedCert, TrustAnchor: ca.certificate.toString('pem') }))).rejects.toMatchObject({
      message: 'SignedCert does not certify the key of the cluster CSR',
    });
  });

  it('refuses a trust anchor that is not self-signed, and text that is not a certificate', async () => {
    const root = await certificateAuthority('Owner Root CA');
    const intermediate = await sign(root, csr.publicKey, 'CN=Intermediate');
    await expect(client.send(new InitializeClusterCommand({ ClusterId: clusterId, SignedCert: intermediate, TrustAnchor: intermediate }))).rejects.toMatchObject({
      message: 'TrustAnchor is not a self-signed certificate',
    });
    await expect(client.send(new InitializeClusterCommand({ ClusterId: clusterId, SignedCert: 'not a certificate', TrustAnchor: root.certificate.toString('pem') }))).rejects.toMatchObject({
      message: 'SignedCert is not a valid PEM-encoded X.509 certificate',
    });
  });
});
