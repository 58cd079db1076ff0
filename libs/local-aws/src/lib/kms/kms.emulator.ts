import { createPrivateKey, createPublicKey, randomUUID, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { epochSeconds, type Clock } from '../protocol/clock';
import { LocalAwsErrorType as E, LocalAwsException } from '../protocol/local-aws.exception';
import { parseInput } from '../protocol/parse-input';
import {
  ASYMMETRIC_SPECS,
  SIGNING_ALGORITHMS,
  WRAPPING_ALGORITHMS,
  WRAPPING_KEY_BITS,
  generateAsymmetric,
  generateWrappingKey,
  matchesSpec,
  parsePkcs8,
  randomToken,
  signMessage,
  signingAlgorithmsFor,
  spkiOf,
  unwrapKeyMaterial,
  verifyMessage,
  type AsymmetricSpec,
  type SigningAlgorithm,
  type WrappingAlgorithm,
} from './kms-crypto';

const DAY_MS = 86_400_000;
/** Import parameters (wrapping key + token) are valid for 24 hours. */
const IMPORT_PARAMETERS_VALID_MS = DAY_MS;
const MAX_SIGN_MESSAGE_BYTES = 4096;

type KeyState = 'Enabled' | 'PendingImport' | 'PendingDeletion';

interface ImportParameters {
  token: string;
  wrappingAlgorithm: WrappingAlgorithm;
  wrappingKeyPkcs8: string;
  validToMs: number;
}

interface KmsKey {
  keyId: string;
  arn: string;
  createdMs: number;
  description: string;
  keySpec: AsymmetricSpec | 'SYMMETRIC_DEFAULT';
  keyUsage: 'SIGN_VERIFY' | 'ENCRYPT_DECRYPT';
  origin: 'AWS_KMS' | 'EXTERNAL';
  state: KeyState;
  /** PKCS#8 DER, base64. Local state only (AWS never reveals it). */
  privateKeyPkcs8?: string;
  /** SYMMETRIC_DEFAULT material (32 bytes), base64. */
  symmetricKey?: string;
  expirationModel?: 'KEY_MATERIAL_EXPIRES' | 'KEY_MATERIAL_DOES_NOT_EXPIRE';
  validToMs?: number;
  deletionMs?: number;
  pendingWindowDays?: number;
  imports: ImportParameters[];
}

export interface KmsState {
  regions: Record<string, KmsKey[]>;
}

export const emptyKmsState = (): KmsState => ({ regions: {} });

const keyId = z.string().min(1).max(2048);
const blob = z.string().min(1);
const schemas = {
  createKey: z.object({
    KeySpec: z.string().optional(),
    CustomerMasterKeySpec: z.string().optional(),
    KeyUsage: z.enum(['SIGN_VERIFY', 'ENCRYPT_DECRYPT', 'GENERATE_VERIFY_MAC', 'KEY_AGREEMENT']).optional(),
    Origin: z.enum(['AWS_KMS', 'EXTERNAL', 'AWS_CLOUDHSM', 'EXTERNAL_KEY_STORE']).optional(),
    Description: z.string().max(8192).optional(),
  }),
  keyOnly: z.object({ KeyId: keyId }),
  getParametersForImport: z.object({ KeyId: keyId, WrappingAlgorithm: z.string(), WrappingKeySpec: z.string() }),
  importKeyMaterial: z.object({
    KeyId: keyId,
    ImportToken: blob,
    EncryptedKeyMaterial: blob,
    ValidTo: z.number().optional(),
    ExpirationModel: z.enum(['KEY_MATERIAL_EXPIRES', 'KEY_MATERIAL_DOES_NOT_EXPIRE']).optional(),
  }),
  sign: z.object({ KeyId: keyId, Message: blob, MessageType: z.enum(['RAW', 'DIGEST', 'EXTERNAL_MU']).optional(), SigningAlgorithm: z.string() }),
  verify: z.object({
    KeyId: keyId,
    Message: blob,
    MessageType: z.enum(['RAW', 'DIGEST', 'EXTERNAL_MU']).optional(),
    Signature: blob,
    SigningAlgorithm: z.string(),
  }),
  scheduleKeyDeletion: z.object({ KeyId: keyId, PendingWindowInDays: z.number().int().min(7).max(30).optional() }),
};

const err = (type: E, message: string) => new LocalAwsException(type, message);

/**
 * The KMS subset keyfleet needs to move asymmetric keys out of CloudHSM into KMS:
 * EXTERNAL-origin keys, import parameters (RSA wrapping key + token, 24 h), import that
 * really unwraps (RSA-OAEP, or RSA-OAEP + AES-KWP for RSA_AES_KEY_WRAP) and checks the
 * material against the key spec, then Sign/Verify/GetPublicKey with the imported key.
 */
export class KmsEmulator {
  constructor(
    private readonly state: KmsState,
    private readonly clock: Clock,
    private readonly account: string,
  ) {}

  createKey(region: string, raw: unknown) {
    const input = parseInput(schemas.createKey, raw);
    const spec = input.KeySpec ?? input.CustomerMasterKeySpec ?? 'SYMMETRIC_DEFAULT';
    if (spec !== 'SYMMETRIC_DEFAULT' && !(spec in ASYMMETRIC_SPECS)) {
      throw err(E.UnsupportedOperation, `KeySpec ${spec} is not supported by cloudhsm-local (SYMMETRIC_DEFAULT, RSA and ECC specs are)`);
    }
    const keySpec = spec as AsymmetricSpec | 'SYMMETRIC_DEFAULT';
    const usage = input.KeyUsage ?? 'ENCRYPT_DECRYPT';
    const usageFits = keySpec === 'SYMMETRIC_DEFAULT' ? usage === 'ENCRYPT_DECRYPT' : usage === 'SIGN_VERIFY' || (usage === 'ENCRYPT_DECRYPT' && keySpec.startsWith('RSA'));
    if (!usageFits || (usage !== 'SIGN_VERIFY' && usage !== 'ENCRYPT_DECRYPT')) throw err(E.Validation, `KeyUsage ${usage} is not valid for KeySpec ${keySpec}`);
    const origin = input.Origin ?? 'AWS_KMS';
    if (origin !== 'AWS_KMS' && origin !== 'EXTERNAL') throw err(E.UnsupportedOperation, `Origin ${origin} is not supported by cloudhsm-local`);
    const id = randomUUID();
    const key: KmsKey = {
      keyId: id,
      arn: `arn:aws:kms:${region}:${this.account}:key/${id}`,
      createdMs: this.now(),
      description: input.Description ?? '',
      keySpec,
      keyUsage: usage,
      origin,
      state: origin === 'EXTERNAL' ? 'PendingImport' : 'Enabled',
      imports: [],
      ...(origin !== 'AWS_KMS'
        ? {}
        : keySpec === 'SYMMETRIC_DEFAULT'
          ? { symmetricKey: randomToken().toString('base64') }
          : { privateKeyPkcs8: generateAsymmetric(keySpec).export({ type: 'pkcs8', format: 'der' }).toString('base64') }),
    };
    (this.state.regions[region] ??= []).push(key);
    return { KeyMetadata: this.metadata(key) };
  }

  describeKey(region: string, raw: unknown) {
    return { KeyMetadata: this.metadata(this.key(region, parseInput(schemas.keyOnly, raw).KeyId)) };
  }

  getParametersForImport(region: string, raw: unknown) {
    const input = parseInput(schemas.getParametersForImport, raw);
    const key = this.key(region, input.KeyId);
    if (key.origin !== 'EXTERNAL') throw err(E.UnsupportedOperation, `${key.arn} origin is ${key.origin} which is not valid for this operation.`);
    if (key.state === 'PendingDeletion') throw err(E.KmsInvalidState, `${key.arn} is pending deletion.`);
    if (!(WRAPPING_ALGORITHMS as readonly string[]).includes(input.WrappingAlgorithm)) {
      throw err(E.Validation, `WrappingAlgorithm ${input.WrappingAlgorithm} is not supported (RSAES_PKCS1_V1_5 is no longer accepted by KMS)`);
    }
    if (!(input.WrappingKeySpec in WRAPPING_KEY_BITS)) throw err(E.Validation, `WrappingKeySpec ${input.WrappingKeySpec} is not supported`);
    const algorithm = input.WrappingAlgorithm as WrappingAlgorithm;
    if (key.keySpec.startsWith('RSA') && algorithm.startsWith('RSAES_OAEP')) {
      throw err(E.Validation, 'RSA private key material must be wrapped with RSA_AES_KEY_WRAP_SHA_1 or RSA_AES_KEY_WRAP_SHA_256');
    }
    const wrappingKey = generateWrappingKey(input.WrappingKeySpec as keyof typeof WRAPPING_KEY_BITS);
    const token = randomToken().toString('base64');
    const validToMs = this.now() + IMPORT_PARAMETERS_VALID_MS;
    key.imports.push({ token, wrappingAlgorithm: algorithm, wrappingKeyPkcs8: wrappingKey.export({ type: 'pkcs8', format: 'der' }).toString('base64'), validToMs });
    return {
      KeyId: key.arn,
      ImportToken: token,
      PublicKey: createPublicKey(wrappingKey).export({ type: 'spki', format: 'der' }).toString('base64'),
      ParametersValidTo: epochSeconds(new Date(validToMs)),
    };
  }

  importKeyMaterial(region: string, raw: unknown) {
    const input = parseInput(schemas.importKeyMaterial, raw);
    const key = this.key(region, input.KeyId);
    if (key.origin !== 'EXTERNAL') throw err(E.UnsupportedOperation, `${key.arn} origin is ${key.origin} which is not valid for this operation.`);
    if (key.state === 'PendingDeletion') throw err(E.KmsInvalidState, `${key.arn} is pending deletion.`);
    const params = key.imports.find((p) => p.token === input.ImportToken);
    if (!params) throw err(E.InvalidImportToken, 'Import token is invalid or was issued for another key.');
    if (this.now() > params.validToMs) throw err(E.ExpiredImportToken, 'Import token expired: get new import parameters.');
    const expirationModel = input.ExpirationModel ?? 'KEY_MATERIAL_EXPIRES';
    if (expirationModel === 'KEY_MATERIAL_EXPIRES' && input.ValidTo === undefined) {
      throw err(E.Validation, 'ValidTo is required when ExpirationModel is KEY_MATERIAL_EXPIRES');
    }
    if (expirationModel === 'KEY_MATERIAL_DOES_NOT_EXPIRE' && input.ValidTo !== undefined) {
      throw err(E.Validation, 'ValidTo must not be set when ExpirationModel is KEY_MATERIAL_DOES_NOT_EXPIRE');
    }
    const wrappingKey = createPrivateKey({ key: Buffer.from(params.wrappingKeyPkcs8, 'base64'), format: 'der', type: 'pkcs8' });
    const material = unwrapKeyMaterial(Buffer.from(input.EncryptedKeyMaterial, 'base64'), params.wrappingAlgorithm, wrappingKey);
    if (!material) throw err(E.InvalidCiphertext, 'The encrypted key material could not be decrypted with the import parameters.');
    if (key.keySpec === 'SYMMETRIC_DEFAULT') {
      if (material.length !== 32) throw err(E.IncorrectKeyMaterial, 'SYMMETRIC_DEFAULT key material must be 32 bytes.');
      if (key.symmetricKey !== undefined && !timingSafeEqualBase64(key.symmetricKey, material)) {
        throw err(E.IncorrectKeyMaterial, 'Reimported key material must be the same as the material imported before.');
      }
      key.symmetricKey = material.toString('base64');
    } else {
      const privateKey = parsePkcs8(material);
      if (!privateKey || !matchesSpec(privateKey, key.keySpec)) {
        throw err(E.IncorrectKeyMaterial, `The key material is not a PKCS#8 private key of spec ${key.keySpec}.`);
      }
      const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' });
      if (key.privateKeyPkcs8 !== undefined && !timingSafeEqualBase64(key.privateKeyPkcs8, pkcs8)) {
        throw err(E.IncorrectKeyMaterial, 'Reimported key material must be the same as the material imported before.');
      }
      key.privateKeyPkcs8 = pkcs8.toString('base64');
    }
    key.state = 'Enabled';
    key.expirationModel = expirationModel;
    if (input.ValidTo !== undefined) key.validToMs = input.ValidTo * 1000;
    return { KeyId: key.arn };
  }

  sign(region: string, raw: unknown) {
    const input = parseInput(schemas.sign, raw);
    const { key, algorithm, message } = this.forSigning(region, input);
    const privateKey = createPrivateKey({ key: Buffer.from(key.privateKeyPkcs8 ?? '', 'base64'), format: 'der', type: 'pkcs8' });
    return { KeyId: key.arn, Signature: signMessage(privateKey, algorithm, message).toString('base64'), SigningAlgorithm: algorithm };
  }

  verify(region: string, raw: unknown) {
    const input = parseInput(schemas.verify, raw);
    const { key, algorithm, message } = this.forSigning(region, input);
    const publicKey = createPublicKey({ key: this.publicKeyDer(key), format: 'der', type: 'spki' });
    if (!verifyMessage(publicKey, algorithm, message, Buffer.from(input.Signature, 'base64'))) {
      throw err(E.KmsInvalidSignature, 'The signature is not valid for this message, key and algorithm.');
    }
    return { KeyId: key.arn, SignatureValid: true, SigningAlgorithm: algorithm };
  }

  getPublicKey(region: string, raw: unknown) {
    const { key, spec } = this.asymmetric(this.usable(region, parseInput(schemas.keyOnly, raw).KeyId));
    return {
      KeyId: key.arn,
      PublicKey: this.publicKeyDer(key).toString('base64'),
      CustomerMasterKeySpec: spec,
      KeySpec: spec,
      KeyUsage: key.keyUsage,
      ...(key.keyUsage === 'SIGN_VERIFY' ? { SigningAlgorithms: signingAlgorithmsFor(spec) } : { EncryptionAlgorithms: ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'] }),
    };
  }

  scheduleKeyDeletion(region: string, raw: unknown) {
    const input = parseInput(schemas.scheduleKeyDeletion, raw);
    const key = this.key(region, input.KeyId);
    if (key.state === 'PendingDeletion') throw err(E.KmsInvalidState, `${key.arn} is pending deletion.`);
    const days = input.PendingWindowInDays ?? 30;
    key.state = 'PendingDeletion';
    key.pendingWindowDays = days;
    key.deletionMs = this.now() + days * DAY_MS;
    return { KeyId: key.arn, DeletionDate: epochSeconds(new Date(key.deletionMs)), KeyState: key.state, PendingWindowInDays: days };
  }

  private forSigning(region: string, input: { KeyId: string; Message: string; MessageType?: string | undefined; SigningAlgorithm: string }) {
    const usable = this.usable(region, input.KeyId);
    if (usable.keyUsage !== 'SIGN_VERIFY') throw err(E.InvalidKeyUsage, `${usable.arn} key usage is ${usable.keyUsage} which is not valid for signing.`);
    const { key, spec } = this.asymmetric(usable);
    if (!(input.SigningAlgorithm in SIGNING_ALGORITHMS)) throw err(E.Validation, `SigningAlgorithm ${input.SigningAlgorithm} is not valid`);
    const algorithm = input.SigningAlgorithm as SigningAlgorithm;
    if (!signingAlgorithmsFor(spec).includes(algorithm)) {
      throw err(E.InvalidKeyUsage, `Algorithm ${algorithm} is incompatible with key spec ${spec}.`);
    }
    if ((input.MessageType ?? 'RAW') !== 'RAW') throw err(E.UnsupportedOperation, 'cloudhsm-local signs RAW messages only (MessageType DIGEST is not emulated)');
    const message = Buffer.from(input.Message, 'base64');
    if (message.length > MAX_SIGN_MESSAGE_BYTES) throw err(E.Validation, `Message must be at most ${MAX_SIGN_MESSAGE_BYTES} bytes`);
    return { key, algorithm, message };
  }

  private asymmetric(key: KmsKey): { key: KmsKey; spec: AsymmetricSpec } {
    if (key.keySpec === 'SYMMETRIC_DEFAULT') throw err(E.UnsupportedOperation, `${key.arn} is a symmetric key; this operation needs an asymmetric key.`);
    return { key, spec: key.keySpec };
  }

  private publicKeyDer(key: KmsKey): Buffer {
    return spkiOf(createPrivateKey({ key: Buffer.from(key.privateKeyPkcs8 ?? '', 'base64'), format: 'der', type: 'pkcs8' }));
  }

  /** An Enabled key with material: PendingImport and PendingDeletion keys cannot be used. */
  private usable(region: string, id: string): KmsKey {
    const key = this.key(region, id);
    if (key.state !== 'Enabled' || (key.privateKeyPkcs8 === undefined && key.symmetricKey === undefined)) throw err(E.KmsInvalidState, `${key.arn} is ${key.state}.`);
    if (key.validToMs !== undefined && this.now() >= key.validToMs) throw err(E.KmsInvalidState, `${key.arn} key material has expired.`);
    return key;
  }

  private key(region: string, id: string): KmsKey {
    const keys = this.state.regions[region] ?? [];
    const now = this.now();
    // Keys whose deletion window has passed are gone.
    const live = keys.filter((k) => k.deletionMs === undefined || k.deletionMs > now);
    if (live.length !== keys.length) this.state.regions[region] = live;
    const key = live.find((k) => k.keyId === id || k.arn === id);
    if (!key) throw err(E.KmsNotFound, `Key '${id}' does not exist`);
    return key;
  }

  private now(): number {
    return this.clock.now().getTime();
  }

  private metadata(key: KmsKey) {
    return {
      AWSAccountId: this.account,
      KeyId: key.keyId,
      Arn: key.arn,
      CreationDate: epochSeconds(new Date(key.createdMs)),
      Enabled: key.state === 'Enabled',
      Description: key.description,
      KeyUsage: key.keyUsage,
      KeyState: key.state,
      Origin: key.origin,
      KeyManager: 'CUSTOMER',
      CustomerMasterKeySpec: key.keySpec,
      KeySpec: key.keySpec,
      MultiRegion: false,
      ...(key.keySpec === 'SYMMETRIC_DEFAULT'
        ? { EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'] }
        : key.keyUsage === 'SIGN_VERIFY'
          ? { SigningAlgorithms: signingAlgorithmsFor(key.keySpec) }
          : { EncryptionAlgorithms: ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'] }),
      ...(key.expirationModel ? { ExpirationModel: key.expirationModel } : {}),
      ...(key.validToMs !== undefined ? { ValidTo: epochSeconds(new Date(key.validToMs)) } : {}),
      ...(key.deletionMs !== undefined ? { DeletionDate: epochSeconds(new Date(key.deletionMs)), PendingDeletionWindowInDays: key.pendingWindowDays } : {}),
    };
  }
}

function timingSafeEqualBase64(a: string, b: Buffer): boolean {
  const left = Buffer.from(a, 'base64');
  return left.length === b.length && timingSafeEqual(left, b);
}
