import { X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import { GatewayException, GatewayExceptionCode } from '@keyfleet/gateway';
import { CallerPolicy } from './caller-policy';
import { PolicyAuthorizer } from './policy-authorizer';
import { issueTestCertificate, makeTestAuthority, type TestAuthority, type TestCertificate } from './test-certificates.test-kit';

const DEMO = 'spiffe://keyfleet.local/app/app-demo';
const KEY_SERVICE = 'spiffe://keyfleet.local/service/key-service';

const policy = CallerPolicy.from({
  callers: { [DEMO]: { keys: ['demo-*'], operations: ['encrypt', 'generate-random'] } },
  admin: [KEY_SERVICE],
});

/** What grpc-js hands over: node's peer certificate, with its raw DER and fingerprint. */
const peerOf = (cert: TestCertificate): PeerCertificate => {
  const parsed = new X509Certificate(cert.der);
  return { raw: cert.der, fingerprint256: parsed.fingerprint256 } as PeerCertificate;
};

function thrownBy(work: () => unknown): unknown {
  try {
    work();
  } catch (err) {
    return err;
  }
  throw new Error('expected an exception');
}

describe(PolicyAuthorizer.name, () => {
  let ca: TestAuthority;
  let demo: TestCertificate;
  let keyService: TestCertificate;

  beforeAll(async () => {
    ca = await makeTestAuthority('authorizer test CA');
    demo = await issueTestCertificate(ca, { cn: 'app-demo', uris: [DEMO] });
    keyService = await issueTestCertificate(ca, { cn: 'key-service', uris: [KEY_SERVICE] });
  });

  it('identifies the caller by the SPIFFE ID of its peer certificate', () => {
    const sut = new PolicyAuthorizer(policy);

    expect(sut.identify(peerOf(demo))).toBe(DEMO);
    expect(sut.identify(peerOf(keyService))).toBe(KEY_SERVICE);
  });

  it('recognises a certificate it has seen by its fingerprint without parsing it again', () => {
    const sut = new PolicyAuthorizer(policy);
    const peer = peerOf(demo);
    sut.identify(peer);

    expect(sut.identify({ ...peer, raw: Buffer.alloc(0) })).toBe(DEMO);
  });

  it('forgets the oldest certificate when its cache is full', () => {
    const sut = new PolicyAuthorizer(policy, 1);
    const first = peerOf(demo);
    sut.identify(first);
    sut.identify(peerOf(keyService));

    expect(thrownBy(() => sut.identify({ ...first, raw: Buffer.alloc(0) }))).toMatchObject({ code: GatewayExceptionCode.PermissionDenied });
  });

  it('turns a certificate without identity into PERMISSION_DENIED', async () => {
    const sut = new PolicyAuthorizer(policy);
    const anonymous = await issueTestCertificate(ca, { cn: 'app-demo', dns: ['localhost'] });

    const err = thrownBy(() => sut.identify(peerOf(anonymous)));

    expect(err).toBeInstanceOf(GatewayException);
    expect(err).toMatchObject({ code: GatewayExceptionCode.PermissionDenied, message: 'the client certificate has no spiffe:// URI SAN (caller identity)' });
    expect(thrownBy(() => sut.identify(undefined))).toMatchObject({ code: GatewayExceptionCode.PermissionDenied });
  });

  it('answers undefined when allowed and the reason when not', () => {
    const sut = new PolicyAuthorizer(policy);

    expect(sut.authorize(DEMO, 'encrypt', 'demo-aes')).toBeUndefined();
    expect(sut.authorize(DEMO, 'generate-random', undefined)).toBeUndefined();
    expect(sut.authorize(DEMO, 'encrypt', 'payments-aes')).toBe(`${DEMO} may not encrypt with key payments-aes`);
  });

  it('admits only listed services to HsmAdmin', () => {
    const sut = new PolicyAuthorizer(policy);

    expect(sut.authorizeAdmin(KEY_SERVICE)).toBeUndefined();
    expect(sut.authorizeAdmin(DEMO)).toBe(`${DEMO} may not admin: HsmAdmin is for keyfleet services only`);
  });

  it('denies an identity string that is not a keyfleet caller', () => {
    const sut = new PolicyAuthorizer(policy);

    expect(thrownBy(() => sut.authorize('spiffe://evil.example/app/app-demo', 'encrypt', 'demo-aes'))).toMatchObject({ code: GatewayExceptionCode.PermissionDenied });
    expect(thrownBy(() => sut.authorizeAdmin('key-service'))).toMatchObject({ code: GatewayExceptionCode.PermissionDenied });
  });
});
