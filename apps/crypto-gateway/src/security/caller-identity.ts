// @peculiar/x509 resolves its parsers through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import { X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import * as x509 from '@peculiar/x509';
import { SecurityException, SecurityExceptionCode } from './security.exception';

/** The SPIFFE trust domain of keyfleet's callers; the development CA issues only these IDs. */
export const TRUST_DOMAIN = 'keyfleet.local';

/** `app`: an internal application (crypto API); `service`: a keyfleet service (may be an HsmAdmin caller). */
export type CallerKind = 'app' | 'service';

/** Who is calling, from the URI SAN of its client certificate. */
export interface CallerIdentity {
  /** The SPIFFE ID, e.g. `spiffe://keyfleet.local/app/app-payments`: the policy's subject. */
  readonly uri: string;
  readonly kind: CallerKind;
  /** The caller's name, also the certificate's CN (e.g. `app-payments`). */
  readonly name: string;
}

/** A certificate as node's TLS socket, node's crypto, a DER buffer or a PEM string holds it. */
export type CertificateInput = PeerCertificate | X509Certificate | Uint8Array | string;

const SPIFFE_SCHEME = 'spiffe://';
// Exactly `<kind>/<name>`: no further segments, query, fragment, port or user info.
const KEYFLEET_ID = /^spiffe:\/\/keyfleet\.local\/(app|service)\/([a-z0-9][a-z0-9._-]{0,63})$/;

/** The SPIFFE ID of a keyfleet caller. */
export function callerUri(kind: CallerKind, name: string): string {
  return `${SPIFFE_SCHEME}${TRUST_DOMAIN}/${kind}/${name}`;
}

/**
 * Parses a keyfleet SPIFFE ID (`spiffe://keyfleet.local/<app|service>/<name>`).
 * @throws SecurityException `ForeignIdentity` for any other URI.
 */
export function parseCallerUri(uri: string): CallerIdentity {
  const match = KEYFLEET_ID.exec(uri);
  if (!match) {
    const reason = uri.startsWith(`${SPIFFE_SCHEME}${TRUST_DOMAIN}/`) ? 'is not spiffe://keyfleet.local/<app|service>/<name>' : `is not in the trust domain ${TRUST_DOMAIN}`;
    throw new SecurityException(SecurityExceptionCode.ForeignIdentity, `caller identity ${uri} ${reason}`);
  }
  return { uri, kind: match[1] as CallerKind, name: match[2] as string };
}

/**
 * The caller identity a certificate carries: its one `spiffe://` URI SAN, which must be a
 * keyfleet ID. It does not check the chain: the TLS handshake (client certificates required
 * and verified against the CA) has done that before any request reaches the gateway.
 * @throws SecurityException `MissingIdentity` (no certificate or no SPIFFE ID), `ForeignIdentity`
 * (another trust domain, a malformed ID, several IDs), `UnreadableCertificate`.
 */
export function extractCallerIdentity(certificate: CertificateInput | undefined): CallerIdentity {
  const spiffeIds = uriSans(parse(certificate)).filter((uri) => uri.toLowerCase().startsWith(SPIFFE_SCHEME));
  if (spiffeIds.length === 0) throw new SecurityException(SecurityExceptionCode.MissingIdentity, 'the client certificate has no spiffe:// URI SAN (caller identity)');
  // An X.509-SVID carries exactly one SPIFFE ID; with two, which one speaks would be a guess.
  if (spiffeIds.length > 1) throw new SecurityException(SecurityExceptionCode.ForeignIdentity, `the client certificate has ${spiffeIds.length} spiffe:// URI SANs; one is expected`);
  return parseCallerUri(spiffeIds[0] as string);
}

function parse(certificate: CertificateInput | undefined): x509.X509Certificate {
  const source = toParsable(certificate);
  try {
    return new x509.X509Certificate(source);
  } catch (err) {
    throw new SecurityException(SecurityExceptionCode.UnreadableCertificate, 'the client certificate could not be parsed', { cause: err });
  }
}

function toParsable(certificate: CertificateInput | undefined): string | Uint8Array {
  if (certificate instanceof X509Certificate) return certificate.raw;
  if (typeof certificate === 'string' || certificate instanceof Uint8Array) return certificate;
  // tls.getPeerCertificate() answers an empty object when the peer sent no certificate.
  if (certificate?.raw instanceof Uint8Array && certificate.raw.length > 0) return certificate.raw;
  throw new SecurityException(SecurityExceptionCode.MissingIdentity, 'no client certificate was presented');
}

function uriSans(certificate: x509.X509Certificate): string[] {
  const san = certificate.getExtension(x509.SubjectAlternativeNameExtension);
  return san ? san.names.items.filter((name) => name.type === 'url').map((name) => name.value) : [];
}
