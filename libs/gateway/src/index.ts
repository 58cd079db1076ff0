export { additionalData, ciphertextHeader, decodeCiphertext, encodeCiphertext, type CiphertextBlob } from './lib/ciphertext/ciphertext-format';
export { MAC_ALGORITHMS, SIGNING_ALGORITHMS, signingAlgorithmsFor, type MacAlgorithmName, type SigningAlgorithmName } from './lib/crypto/algorithms';
export { GatewayCrypto, MAX_PLAINTEXT_BYTES, MAX_RANDOM_BYTES, type EncryptionContext, type GatewayCryptoDependencies } from './lib/crypto/gateway-crypto';
export { GatewayException, GatewayExceptionCode, type OperationTrace } from './lib/gateway.exception';
export { KeyDirectory, keyDirectorySchema, keySpecSchema, keyUsageSchema, type KeyDirectoryConfig, type KeySpec, type KeyUsage, type ResolvedKey } from './lib/keys/key-directory';
export type { ClusterCrypto, ClusterHandle, ClusterSet, FailureClassifier, HashName, OperationAudit, RequestContext, RetryRunner, SchemeName } from './lib/ports';
export { weightedChoice, type Candidate } from './lib/routing/weighted-choice';
