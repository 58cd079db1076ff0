import * as pkcs11js from 'pkcs11js';

/** Hash functions the gateway signs and MACs with. */
export type HashAlgorithm = 'sha256' | 'sha384' | 'sha512';

/** Signature schemes: ECDSA (P-256/P-384), RSASSA-PKCS1-v1_5 and RSASSA-PSS. */
export type SignatureScheme = 'ecdsa' | 'rsa-pkcs1' | 'rsa-pss';

const HASH_MECHANISM: Readonly<Record<HashAlgorithm, number>> = {
  sha256: pkcs11js.CKM_SHA256,
  sha384: pkcs11js.CKM_SHA384,
  sha512: pkcs11js.CKM_SHA512,
};

const MGF1: Readonly<Record<HashAlgorithm, number>> = {
  sha256: pkcs11js.CKG_MGF1_SHA256,
  sha384: pkcs11js.CKG_MGF1_SHA384,
  sha512: pkcs11js.CKG_MGF1_SHA512,
};

const HMAC: Readonly<Record<HashAlgorithm, number>> = {
  sha256: pkcs11js.CKM_SHA256_HMAC,
  sha384: pkcs11js.CKM_SHA384_HMAC,
  sha512: pkcs11js.CKM_SHA512_HMAC,
};

/** Digest sizes in bytes. */
export const DIGEST_BYTES: Readonly<Record<HashAlgorithm, number>> = { sha256: 32, sha384: 48, sha512: 64 };

// DER of the DigestInfo prefix that EMSA-PKCS1-v1_5 puts before the digest (RFC 8017 §9.2, note 1).
const DIGEST_INFO_PREFIX: Readonly<Record<HashAlgorithm, Buffer>> = {
  sha256: Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  sha384: Buffer.from('3041300d060960864801650304020205000430', 'hex'),
  sha512: Buffer.from('3051300d060960864801650304020305000440', 'hex'),
};

/** CKM_AES_GCM with a 96-bit IV, 128-bit tag and the caller's AAD. */
export class AesGcmMechanism {
  static readonly IV_BYTES = 12;
  static readonly TAG_BYTES = 16;

  constructor(
    /** The IV buffer: filled by the caller (SoftHSM2) or written back by the HSM (CloudHSM). */
    readonly iv: Buffer,
    readonly aad: Buffer,
  ) {}

  toPkcs11(): pkcs11js.Mechanism {
    const parameter: pkcs11js.GcmParams = { type: pkcs11js.CK_PARAMS_GCM, iv: this.iv, ivBits: 96, aad: this.aad, tagBits: 128 };
    return { mechanism: pkcs11js.CKM_AES_GCM, parameter };
  }
}

/**
 * A signature mechanism applied to a digest: the gateway hashes messages itself (hashing
 * needs no key, and one code path then serves message and digest input), so the HSM gets
 * CKM_ECDSA, CKM_RSA_PKCS over DigestInfo, or CKM_RSA_PKCS_PSS with the hash named in its
 * parameters (salt length = digest length).
 */
export class DigestSignatureMechanism {
  constructor(
    readonly scheme: SignatureScheme,
    readonly hash: HashAlgorithm,
  ) {}

  toPkcs11(): pkcs11js.Mechanism {
    switch (this.scheme) {
      case 'ecdsa':
        return { mechanism: pkcs11js.CKM_ECDSA };
      case 'rsa-pkcs1':
        return { mechanism: pkcs11js.CKM_RSA_PKCS };
      case 'rsa-pss': {
        const parameter: pkcs11js.RsaPSS = {
          type: pkcs11js.CK_PARAMS_RSA_PSS,
          hashAlg: HASH_MECHANISM[this.hash],
          mgf: MGF1[this.hash],
          saltLen: DIGEST_BYTES[this.hash],
        };
        return { mechanism: pkcs11js.CKM_RSA_PKCS_PSS, parameter };
      }
    }
  }

  /** What goes into C_Sign/C_Verify for this digest. */
  input(digest: Buffer): Buffer {
    return this.scheme === 'rsa-pkcs1' ? Buffer.concat([DIGEST_INFO_PREFIX[this.hash], digest]) : digest;
  }
}

/** CKM_SHA*_HMAC. */
export class HmacMechanism {
  constructor(readonly hash: HashAlgorithm) {}

  toPkcs11(): pkcs11js.Mechanism {
    return { mechanism: HMAC[this.hash] };
  }
}
