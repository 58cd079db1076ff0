import { X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import { callerUri, extractCallerIdentity, parseCallerUri } from './caller-identity';
import { SecurityException, SecurityExceptionCode } from './security.exception';
import { issueTestCertificate, makeTestAuthority, type TestAuthority } from './test-certificates.test-kit';

function thrownBy(work: () => unknown): unknown {
  try {
    work();
  } catch (err) {
    return err;
  }
  throw new Error('expected an exception');
}

describe(extractCallerIdentity.name, () => {
  const sut = extractCallerIdentity;
  let ca: TestAuthority;

  beforeAll(async () => {
    ca = await makeTestAuthority('identity test CA');
  });

  it('reads kind and name from the SPIFFE URI SAN of a PEM, DER, X509Certificate or TLS peer certificate', async () => {
    const cert = await issueTestCertificate(ca, { cn: 'app-payments', uris: ['spiffe://keyfleet.local/app/app-payments'] });
    const expected = { uri: 'spiffe://keyfleet.local/app/app-payments', kind: 'app', name: 'app-payments' };
    const peer = { raw: cert.der } as PeerCertificate;

    expect(sut(cert.certPem)).toEqual(expected);
    expect(sut(cert.der)).toEqual(expected);
    expect(sut(new X509Certificate(cert.der))).toEqual(expected);
    expect(sut(peer)).toEqual(expected);
  });

  it('finds a service identity among other SANs', async () => {
    const cert = await issueTestCertificate(ca, {
      cn: 'key-service',
      uris: ['https://key-service.internal/', 'spiffe://keyfleet.local/service/key-service'],
      dns: ['key-service.internal'],
    });

    expect(sut(cert.certPem)).toEqual({ uri: 'spiffe://keyfleet.local/service/key-service', kind: 'service', name: 'key-service' });
  });

  it('rejects a certificate whose SANs hold no URI', async () => {
    const cert = await issueTestCertificate(ca, { cn: 'app-demo', dns: ['app-demo.internal'] });

    const err = thrownBy(() => sut(cert.certPem));

    expect(err).toBeInstanceOf(SecurityException);
    expect(err).toMatchObject({ code: SecurityExceptionCode.MissingIdentity, message: expect.stringContaining('no spiffe:// URI SAN') });
  });

  it('rejects a certificate without any SAN, even with the right common name', async () => {
    const cert = await issueTestCertificate(ca, { cn: 'spiffe://keyfleet.local/app/app-demo' });

    expect(thrownBy(() => sut(cert.der))).toMatchObject({ code: SecurityExceptionCode.MissingIdentity });
  });

  it('rejects a SPIFFE ID from another trust domain', async () => {
    const cert = await issueTestCertificate(ca, { cn: 'app-demo', uris: ['spiffe://evil.example/app/app-demo'] });

    expect(thrownBy(() => sut(cert.certPem))).toMatchObject({
      code: SecurityExceptionCode.ForeignIdentity,
      message: 'caller identity spiffe://evil.example/app/app-demo is not in the trust domain keyfleet.local',
    });
  });

  it('rejects a certificate carrying two SPIFFE IDs', async () => {
    const cert = await issueTestCertificate(ca, { cn: 'app-demo', uris: ['spiffe://keyfleet.local/app/app-demo', 'spiffe://keyfleet.local/service/key-service'] });

    expect(thrownBy(() => sut(cert.certPem))).toMatchObject({ code: SecurityExceptionCode.ForeignIdentity });
  });

  it('rejects a peer that presented no certificate', () => {
    expect(thrownBy(() => sut({} as PeerCertificate))).toMatchObject({ code: SecurityExceptionCode.MissingIdentity });
    expect(thrownBy(() => sut(undefined))).toMatchObject({ code: SecurityExceptionCode.MissingIdentity });
  });

  it('rejects bytes that are not a certificate', () => {
    expect(thrownBy(() => sut(Buffer.from('not a certificate')))).toMatchObject({ code: SecurityExceptionCode.UnreadableCertificate });
  });
});

describe(parseCallerUri.name, () => {
  const sut = parseCallerUri;

  it('accepts what callerUri makes', () => {
    expect(sut(callerUri('service', 'rotation-service'))).toEqual({ uri: 'spiffe://keyfleet.local/service/rotation-service', kind: 'service', name: 'rotation-service' });
  });

  it.each([
    'spiffe://keyfleet.local/admin/app-demo',
    'spiffe://keyfleet.local/app/app-demo/extra',
    'spiffe://keyfleet.local/app/',
    'spiffe://keyfleet.local:443/app/app-demo',
    'spiffe://keyfleet.local/app/app-demo?x=1',
    'https://keyfleet.local/app/app-demo',
  ])('refuses %s', (uri) => {
    expect(thrownBy(() => sut(uri))).toMatchObject({ code: SecurityExceptionCode.ForeignIdentity, message: expect.stringContaining(uri) });
  });
});
