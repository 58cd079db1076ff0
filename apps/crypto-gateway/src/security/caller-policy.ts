import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { cryptoOperationSchema, type CryptoOperation } from '@keyfleet/contracts';
import { parseCallerUri, type CallerIdentity } from './caller-identity';
import { SecurityException, SecurityExceptionCode } from './security.exception';

const ALIAS = /^[A-Za-z0-9/_.-]{1,128}$/;

/** A key alias (exact), or a prefix followed by one trailing `*` (`payments/*`, `demo-*`, `*` for every key). */
const aliasPatternSchema = z.string().regex(/^(?:[A-Za-z0-9/_.-]{1,128}\*?|\*)$/, 'expected a key alias, or a prefix ending in * (e.g. payments/*)');

/** What the crypto API offers; `admin` is HsmAdmin's, granted by the `admin` list only. */
const callerOperationSchema = cryptoOperationSchema.exclude(['admin']);

const callerUriSchema = (kind?: CallerIdentity['kind']) =>
  z.string().superRefine((uri, ctx) => {
    try {
      const identity = parseCallerUri(uri);
      if (kind && identity.kind !== kind) ctx.addIssue({ code: 'custom', message: `${uri} is not of kind ${kind}` });
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: err instanceof SecurityException ? err.message : `${uri} is not a caller identity` });
    }
  });

/**
 * The caller policy file: per caller identity (SPIFFE ID of its client certificate), the key
 * aliases and crypto operations it may use; `admin` lists the keyfleet services allowed on
 * HsmAdmin. Anything not granted is denied.
 */
export const callerPolicySchema = z
  .object({
    callers: z.record(
      callerUriSchema(),
      z.object({ keys: z.array(aliasPatternSchema).min(1), operations: z.array(callerOperationSchema).min(1) }).strict(),
    ),
    admin: z.array(callerUriSchema('service')).default([]),
  })
  .strict();
export type CallerPolicyDocument = z.input<typeof callerPolicySchema>;

/** The policy's answer: allowed, or why not (names the identity, operation and alias; never data). */
export type Authorization = { readonly allowed: true } | { readonly allowed: false; readonly reason: string };

interface Grant {
  readonly aliases: ReadonlySet<string>;
  readonly prefixes: readonly string[];
  readonly operations: ReadonlySet<CryptoOperation>;
}

const ALLOWED: Authorization = { allowed: true };
const deny = (reason: string): Authorization => ({ allowed: false, reason });

/** Which caller may use which keys and operations, and who may call HsmAdmin. Default deny. */
export class CallerPolicy {
  private constructor(
    private readonly grants: ReadonlyMap<string, Grant>,
    private readonly admins: ReadonlySet<string>,
  ) {}

  /**
   * Reads and validates a policy file.
   * @throws SecurityException `InvalidPolicy` listing every problem (file, JSON or schema).
   */
  static fromFile(path: string): CallerPolicy {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new SecurityException(SecurityExceptionCode.InvalidPolicy, `caller policy ${path} cannot be read`, { cause: err });
    }
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch (err) {
      throw new SecurityException(SecurityExceptionCode.InvalidPolicy, `caller policy ${path} is not valid JSON`, { cause: err });
    }
    return CallerPolicy.from(document, `caller policy ${path}`);
  }

  /**
   * Validates a parsed policy document.
   * @throws SecurityException `InvalidPolicy` listing every problem with its path.
   */
  static from(document: unknown, source = 'caller policy'): CallerPolicy {
    const parsed = callerPolicySchema.safeParse(document);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((issue) => `  - ${formatPath(issue.path)}: ${issue.message}`);
      throw new SecurityException(SecurityExceptionCode.InvalidPolicy, `${source} is invalid:\n${problems.join('\n')}`);
    }
    const grants = new Map<string, Grant>();
    for (const [uri, grant] of Object.entries(parsed.data.callers)) {
      grants.set(uri, {
        aliases: new Set(grant.keys.filter((pattern) => !pattern.endsWith('*'))),
        prefixes: grant.keys.filter((pattern) => pattern.endsWith('*')).map((pattern) => pattern.slice(0, -1)),
        operations: new Set(grant.operations),
      });
    }
    return new CallerPolicy(grants, new Set(parsed.data.admin));
  }

  /**
   * May this caller run this crypto operation with this key? `generate-random` needs no key;
   * every other operation needs an alias the caller's patterns match.
   */
  authorize(identity: CallerIdentity, operation: CryptoOperation, keyAlias?: string): Authorization {
    const grant = this.grants.get(identity.uri);
    if (!grant) return deny(`${identity.uri} is not a caller of the crypto API`);
    if (!grant.operations.has(operation)) return deny(`${identity.uri} may not ${operation}`);
    if (operation === 'generate-random') return ALLOWED;
    if (!keyAlias) return deny(`${identity.uri} may not ${operation} without a key alias`);
    if (grant.aliases.has(keyAlias) || grant.prefixes.some((prefix) => keyAlias.startsWith(prefix))) return ALLOWED;
    // The alias came from the request: echo it only when it is a well-formed alias.
    return deny(`${identity.uri} may not ${operation} with key ${ALIAS.test(keyAlias) ? keyAlias : '(malformed alias)'}`);
  }

  /** May this caller use HsmAdmin? Only keyfleet services listed in `admin`. */
  authorizeAdmin(identity: CallerIdentity): Authorization {
    if (identity.kind !== 'service') return deny(`${identity.uri} may not admin: HsmAdmin is for keyfleet services only`);
    if (!this.admins.has(identity.uri)) return deny(`${identity.uri} may not admin: not listed as an HsmAdmin caller`);
    return ALLOWED;
  }
}

function formatPath(path: readonly (string | number)[]): string {
  if (path.length === 0) return '(document)';
  return path.map((part, i) => (typeof part === 'number' ? `[${part}]` : /^[A-Za-z_]\w*$/.test(part) ? `${i === 0 ? '' : '.'}${part}` : `["${part}"]`)).join('');
}
