import type { PeerCertificate } from 'node:tls';

/** What the identity needs of a grpc-js server call (unary or streaming). */
export interface AuthenticatedCall {
  getAuthContext(): { readonly sslPeerCertificate?: PeerCertificate } | null;
}

/** Turns a peer certificate into the caller's identity (`PolicyAuthorizer.identify`); throws when it carries none. */
export type IdentifyPeer = (peer: PeerCertificate | undefined) => string;

/** How far down grpc-js's chain of server interceptors the HTTP/2 stream is looked for. */
const MAX_INTERCEPTORS = 8;

/**
 * The caller identity of each HTTP/2 connection, read from its client certificate once.
 *
 * grpc-js answers `getAuthContext()` with a fresh `getPeerCertificate()` of the TLS socket on
 * every call, which builds the whole certificate object (subject, issuer, three fingerprints,
 * the DER) each time: a measurable share of a crypto operation. The certificate of a
 * connection cannot change while it is open: the TLS handshake verified it, and Node's HTTP/2
 * turns TLS renegotiation off on its sockets (RFC 9113 §9.2.1 forbids it). So the identity is
 * kept per HTTP/2 session, in a WeakMap: it goes with the connection, and a new connection
 * (even from the same address and port) reads its own certificate.
 *
 * grpc-js does not expose the session; it is found on the call's internal HTTP/2 stream. When
 * that shape is not there (another grpc-js version), every call reads the certificate as
 * before: only slower, never another identity.
 */
export class ConnectionIdentities {
  private readonly byConnection = new WeakMap<object, string>();

  constructor(private readonly identifyPeer: IdentifyPeer) {}

  /**
   * The identity of the caller on `call`'s connection. A call whose connection is already gone
   * (grpc-js then cannot read the certificate) has no identity.
   * @throws what `identifyPeer` throws when the certificate carries no identity
   */
  identify(call: AuthenticatedCall): string {
    const connection = connectionOf(call);
    const known = connection ? this.byConnection.get(connection) : undefined;
    if (known !== undefined) return known;
    const identity = this.identifyPeer(peerCertificate(call));
    if (connection) this.byConnection.set(connection, identity);
    return identity;
  }
}

function peerCertificate(call: AuthenticatedCall): PeerCertificate | undefined {
  try {
    return call.getAuthContext()?.sslPeerCertificate;
  } catch {
    // grpc-js 1.14 dereferences `getPeerCertificate()`, which is null once the socket is
    // destroyed: the client went away, and the call has no certificate to show any more.
    return undefined;
  }
}

/** The HTTP/2 session under a grpc-js server call: `call.call[.nextCall...].stream.session`. */
function connectionOf(call: AuthenticatedCall): object | undefined {
  let layer = field(call, 'call');
  for (let depth = 0; layer && depth < MAX_INTERCEPTORS; depth += 1) {
    const session = field(field(layer, 'stream'), 'session');
    if (session) return session;
    layer = field(layer, 'nextCall');
  }
  return undefined;
}

function field(value: unknown, name: string): object | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const found: unknown = (value as Record<string, unknown>)[name];
  return typeof found === 'object' && found !== null ? found : undefined;
}
