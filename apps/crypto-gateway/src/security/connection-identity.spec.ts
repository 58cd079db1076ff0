import { TLSSocket, type PeerCertificate } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { CallerPolicy } from './caller-policy';
import { ConnectionIdentities, type AuthenticatedCall } from './connection-identity';
import { PolicyAuthorizer } from './policy-authorizer';
import { issueTestCertificate, makeTestAuthority, type TestAuthority, type TestCertificate } from './test-certificates.test-kit';

const DEMO = 'spiffe://keyfleet.local/app/app-demo';
const PAYMENTS = 'spiffe://keyfleet.local/app/app-payments';

const identity = (b: Buffer) => b;
/** One unary method answering the caller's identity as the gateway sees it. */
const SERVICE: grpc.ServiceDefinition = {
  Who: { path: '/test.Identity/Who', requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity },
};
const IdentityClient = grpc.makeGenericClientConstructor(SERVICE, 'Identity');

describe(ConnectionIdentities.name, () => {
  let ca: TestAuthority;
  let demo: TestCertificate;
  let payments: TestCertificate;
  let server: grpc.Server;
  let address: string;
  let sut: ConnectionIdentities;
  const clients: grpc.Client[] = [];

  const authorizer = new PolicyAuthorizer(CallerPolicy.from({ callers: {}, admin: [] }));

  function connect(cert: TestCertificate): (request?: string) => Promise<string> {
    const credentials = grpc.credentials.createSsl(Buffer.from(ca.certPem), Buffer.from(cert.keyPem), Buffer.from(cert.certPem));
    const client = new IdentityClient(address, credentials, { 'grpc.ssl_target_name_override': 'localhost' });
    clients.push(client);
    return () =>
      new Promise((resolve, reject) => {
        client.makeUnaryRequest('/test.Identity/Who', identity, identity, Buffer.alloc(0), (err, answer?: Buffer) => (err ? reject(err) : resolve(answer?.toString() ?? '')));
      });
  }

  beforeAll(async () => {
    ca = await makeTestAuthority('connection identity test CA');
    demo = await issueTestCertificate(ca, { cn: 'app-demo', uris: [DEMO] });
    payments = await issueTestCertificate(ca, { cn: 'app-payments', uris: [PAYMENTS] });
    const serverCert = await issueTestCertificate(ca, { cn: 'crypto-gateway', dns: ['localhost'], ips: ['127.0.0.1'], usage: 'server' });
    server = new grpc.Server();
    server.addService(SERVICE, {
      Who: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => callback(null, Buffer.from(sut.identify(call))),
    });
    const credentials = grpc.ServerCredentials.createSsl(Buffer.from(ca.certPem), [{ cert_chain: Buffer.from(serverCert.certPem), private_key: Buffer.from(serverCert.keyPem) }], true);
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', credentials, (err, bound) => (err ? reject(err) : resolve(bound))));
    address = `127.0.0.1:${port}`;
  });

  beforeEach(() => {
    sut = new ConnectionIdentities((peer) => authorizer.identify(peer));
  });

  afterEach(() => {
    jest.restoreAllMocks();
    for (const client of clients.splice(0)) client.close();
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  });

  it('identifies each caller by the certificate of its own connection', async () => {
    const asDemo = connect(demo);
    const asPayments = connect(payments);

    expect(await asDemo()).toBe(DEMO);
    expect(await asPayments()).toBe(PAYMENTS);
    expect(await asDemo()).toBe(DEMO);
  });

  it('reads the certificate of a connection once, however many calls it carries (the grpc-js shipped shows its HTTP/2 session)', async () => {
    const reads = jest.spyOn(TLSSocket.prototype, 'getPeerCertificate');
    const asDemo = connect(demo);
    await asDemo();
    const afterFirst = reads.mock.calls.length;

    for (let i = 0; i < 5; i += 1) expect(await asDemo()).toBe(DEMO);

    expect(afterFirst).toBeGreaterThan(0);
    expect(reads.mock.calls.length).toBe(afterFirst);
  });

  it('reads the certificate on every call when the call does not show its connection', () => {
    const identifyPeer = jest.fn((peer: PeerCertificate | undefined) => authorizer.identify(peer));
    sut = new ConnectionIdentities(identifyPeer);
    const peer = { raw: demo.der } as PeerCertificate;
    const call: AuthenticatedCall = { getAuthContext: () => ({ sslPeerCertificate: peer }) };

    expect(sut.identify(call)).toBe(DEMO);
    expect(sut.identify(call)).toBe(DEMO);

    expect(identifyPeer).toHaveBeenCalledTimes(2);
  });

  it('gives a call whose connection is already gone no certificate, so it has no identity', () => {
    const identifyPeer = jest.fn((peer: PeerCertificate | undefined) => authorizer.identify(peer));
    sut = new ConnectionIdentities(identifyPeer);
    const call: AuthenticatedCall = {
      getAuthContext: () => {
        throw new TypeError("Cannot read properties of null (reading 'raw')");
      },
    };

    expect(() => sut.identify(call)).toThrow(/no client certificate/);
    expect(identifyPeer).toHaveBeenCalledWith(undefined);
  });
});
