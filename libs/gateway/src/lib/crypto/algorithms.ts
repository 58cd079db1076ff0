import { GatewayException, GatewayExceptionCode } from '../gateway.exception';
import type { KeySpec } from '../keys/key-directory';
import type { HashName, SchemeName } from '../ports';

/** Signing algorithms of the API, as scheme and hash. */
export const SIGNING_ALGORITHMS = {
  RSASSA_PSS_SHA_256: { scheme: 'rsa-pss', hash: 'sha256' },
  RSASSA_PSS_SHA_384: { scheme: 'rsa-pss', hash: 'sha384' },
  RSASSA_PSS_SHA_512: { scheme: 'rsa-pss', hash: 'sha512' },
  RSASSA_PKCS1_V1_5_SHA_256: { scheme: 'rsa-pkcs1', hash: 'sha256' },
  RSASSA_PKCS1_V1_5_SHA_384: { scheme: 'rsa-pkcs1', hash: 'sha384' },
  RSASSA_PKCS1_V1_5_SHA_512: { scheme: 'rsa-pkcs1', hash: 'sha512' },
  ECDSA_SHA_256: { scheme: 'ecdsa', hash: 'sha256' },
  ECDSA_SHA_384: { scheme: 'ecdsa', hash: 'sha384' },
  ECDSA_SHA_512: { scheme: 'ecdsa', hash: 'sha512' },
} as const satisfies Record<string, { scheme: SchemeName; hash: HashName }>;
export type SigningAlgorithmName = keyof typeof SIGNING_ALGORITHMS;

export const MAC_ALGORITHMS = { HMAC_SHA_256: 'sha256', HMAC_SHA_384: 'sha384', HMAC_SHA_512: 'sha512' } as const satisfies Record<string, HashName>;
export type MacAlgorithmName = keyof typeof MAC_ALGORITHMS;

export const DIGEST_LENGTH: Readonly<Record<HashName, number>> = { sha256: 32, sha384: 48, sha512: 64 };

/** The signing algorithms a key spec supports. */
export function signingAlgorithmsFor(spec: KeySpec): SigningAlgorithmName[] {
  const names = Object.keys(SIGNING_ALGORITHMS) as SigningAlgorithmName[];
  if (spec.startsWith('ECC_')) return names.filter((n) => n.startsWith('ECDSA'));
  if (spec.startsWith('RSA_')) return names.filter((n) => n.startsWith('RSASSA'));
  return [];
}

/** Scheme and hash of `algorithm` for a key of `spec`. @throws GatewayException InvalidArgument / FailedPrecondition */
export function signingFor(spec: KeySpec, algorithm: string): { scheme: SchemeName; hash: HashName } {
  const chosen = SIGNING_ALGORITHMS[algorithm as SigningAlgorithmName] as { scheme: SchemeName; hash: HashName } | undefined;
  if (!chosen) throw new GatewayException(GatewayExceptionCode.InvalidArgument, 'signing_algorithm is required');
  if (!signingAlgorithmsFor(spec).includes(algorithm as SigningAlgorithmName)) {
    throw new GatewayException(GatewayExceptionCode.FailedPrecondition, `${algorithm} is not supported by a ${spec} key`);
  }
  return chosen;
}

/** The hash of `algorithm` for an HMAC key of `spec` (the sizes must match). */
export function macFor(spec: KeySpec, algorithm: string): HashName {
  const hash = MAC_ALGORITHMS[algorithm as MacAlgorithmName] as HashName | undefined;
  if (!hash) throw new GatewayException(GatewayExceptionCode.InvalidArgument, 'mac_algorithm is required');
  if (spec !== `HMAC_${hash.slice(3)}`) throw new GatewayException(GatewayExceptionCode.FailedPrecondition, `${algorithm} is not supported by a ${spec} key`);
  return hash;
}
