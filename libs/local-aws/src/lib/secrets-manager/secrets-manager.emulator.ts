import { randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { epochSeconds, type Clock } from '../protocol/clock';
import { LocalAwsErrorType as E, LocalAwsException } from '../protocol/local-aws.exception';
import { parseInput } from '../protocol/parse-input';

/** The staging labels Secrets Manager itself manages. */
export const AWSCURRENT = 'AWSCURRENT';
export const AWSPREVIOUS = 'AWSPREVIOUS';
export const AWSPENDING = 'AWSPENDING';

interface SecretVersion {
  versionId: string;
  secretString?: string;
  /** base64, as on the wire. */
  secretBinary?: string;
  stages: string[];
  createdMs: number;
}

interface Secret {
  arn: string;
  name: string;
  description?: string;
  kmsKeyId?: string;
  tags: { Key: string; Value: string }[];
  createdMs: number;
  lastChangedMs: number;
  lastAccessedMs?: number;
  versions: SecretVersion[];
}

/** Persisted state: secrets per region. */
export interface SecretsManagerState {
  regions: Record<string, Secret[]>;
}

export const emptySecretsManagerState = (): SecretsManagerState => ({ regions: {} });

const NAME = /^[A-Za-z0-9/_+=.@!-]{1,512}$/;
const token = z.string().min(32, 'must be 32-64 characters').max(64, 'must be 32-64 characters');
const stage = z.string().min(1).max(256);
const secretId = z.string().min(1).max(2048);
const value = { SecretString: z.string().max(65_536).optional(), SecretBinary: z.string().max(87_384).optional() };

const createSecretInput = z.object({
  Name: z.string(),
  ClientRequestToken: token.optional(),
  Description: z.string().max(2048).optional(),
  KmsKeyId: z.string().max(2048).optional(),
  Tags: z.array(z.object({ Key: z.string().min(1).max(128), Value: z.string().max(256) })).optional(),
  ...value,
});
const getSecretValueInput = z.object({ SecretId: secretId, VersionId: token.optional(), VersionStage: stage.optional() });
const putSecretValueInput = z.object({
  SecretId: secretId,
  ClientRequestToken: token.optional(),
  VersionStages: z.array(stage).min(1).max(20).optional(),
  ...value,
});
const updateStageInput = z.object({
  SecretId: secretId,
  VersionStage: stage,
  MoveToVersionId: token.optional(),
  RemoveFromVersionId: token.optional(),
});
const describeSecretInput = z.object({ SecretId: secretId });

/**
 * The Secrets Manager subset keyfleet uses for crypto-user credentials, with the real
 * staging-label rules: the first version is always AWSCURRENT; whenever AWSCURRENT moves,
 * the version it left becomes AWSPREVIOUS; a label lives on one version at a time.
 */
export class SecretsManagerEmulator {
  constructor(
    private readonly state: SecretsManagerState,
    private readonly clock: Clock,
    private readonly account: string,
  ) {}

  createSecret(region: string, raw: unknown) {
    const input = parseInput(createSecretInput, raw);
    if (!NAME.test(input.Name)) {
      throw new LocalAwsException(E.InvalidParameter, 'Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!');
    }
    assertOneValue(input.SecretString, input.SecretBinary, false);
    const secrets = (this.state.regions[region] ??= []);
    if (secrets.some((s) => s.name === input.Name)) {
      throw new LocalAwsException(E.ResourceExists, `The operation failed because the secret ${input.Name} already exists.`);
    }
    const now = this.clock.now().getTime();
    const secret: Secret = {
      arn: `arn:aws:secretsmanager:${region}:${this.account}:secret:${input.Name}-${randomSuffix()}`,
      name: input.Name,
      ...(input.Description === undefined ? {} : { description: input.Description }),
      ...(input.KmsKeyId === undefined ? {} : { kmsKeyId: input.KmsKeyId }),
      tags: input.Tags ?? [],
      createdMs: now,
      lastChangedMs: now,
      versions: [],
    };
    secrets.push(secret);
    if (input.SecretString === undefined && input.SecretBinary === undefined) return { ARN: secret.arn, Name: secret.name };
    const version = this.addVersion(secret, input.ClientRequestToken ?? randomUUID(), input, [AWSCURRENT]);
    return { ARN: secret.arn, Name: secret.name, VersionId: version.versionId };
  }

  getSecretValue(region: string, raw: unknown) {
    const input = parseInput(getSecretValueInput, raw);
    const secret = this.find(region, input.SecretId);
    let version: SecretVersion | undefined;
    if (input.VersionId !== undefined) {
      version = secret.versions.find((v) => v.versionId === input.VersionId);
      if (!version) throw notFound(`Secrets Manager can't find the specified secret value for VersionId: ${input.VersionId}`);
      if (input.VersionStage !== undefined && !version.stages.includes(input.VersionStage)) {
        throw new LocalAwsException(E.InvalidParameter, 'You provided a VersionStage that is not associated to the provided VersionId.');
      }
    } else {
      const wanted = input.VersionStage ?? AWSCURRENT;
      version = secret.versions.find((v) => v.stages.includes(wanted));
      if (!version) throw notFound(`Secrets Manager can't find the specified secret value for staging label: ${wanted}`);
    }
    secret.lastAccessedMs = startOfDay(this.clock.now());
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: version.versionId,
      ...(version.secretString === undefined ? {} : { SecretString: version.secretString }),
      ...(version.secretBinary === undefined ? {} : { SecretBinary: version.secretBinary }),
      VersionStages: [...version.stages],
      CreatedDate: epochSeconds(new Date(version.createdMs)),
    };
  }

  putSecretValue(region: string, raw: unknown) {
    const input = parseInput(putSecretValueInput, raw);
    assertOneValue(input.SecretString, input.SecretBinary, true);
    const secret = this.find(region, input.SecretId);
    const versionId = input.ClientRequestToken ?? randomUUID();
    const existing = secret.versions.find((v) => v.versionId === versionId);
    if (existing) {
      // Idempotent retry: same token and same data does nothing; different data is refused.
      if (existing.secretString !== input.SecretString || existing.secretBinary !== input.SecretBinary) {
        throw new LocalAwsException(E.ResourceExists, "You can't modify an existing version, you can only create new versions.");
      }
      return { ARN: secret.arn, Name: secret.name, VersionId: existing.versionId, VersionStages: [...existing.stages] };
    }
    const stages = input.VersionStages ?? [AWSCURRENT];
    const version = this.addVersion(secret, versionId, input, secret.versions.length === 0 && !stages.includes(AWSCURRENT) ? [...stages, AWSCURRENT] : stages);
    return { ARN: secret.arn, Name: secret.name, VersionId: version.versionId, VersionStages: [...version.stages] };
  }

  updateSecretVersionStage(region: string, raw: unknown) {
    const input = parseInput(updateStageInput, raw);
    const secret = this.find(region, input.SecretId);
    const holder = secret.versions.find((v) => v.stages.includes(input.VersionStage));
    if (input.MoveToVersionId !== undefined) {
      const target = secret.versions.find((v) => v.versionId === input.MoveToVersionId);
      if (!target) throw notFound(`Secrets Manager can't find the specified secret value for VersionId: ${input.MoveToVersionId}`);
      if (holder && holder !== target && input.RemoveFromVersionId !== holder.versionId) {
        throw new LocalAwsException(
          E.InvalidParameter,
          `The staging label ${input.VersionStage} is currently attached to version ${holder.versionId}, so you must explicitly reference that version in RemoveFromVersionId.`,
        );
      }
      if (holder !== target) this.attach(secret, target, input.VersionStage);
    } else {
      if (input.RemoveFromVersionId === undefined) {
        throw new LocalAwsException(E.InvalidParameter, 'You must specify MoveToVersionId, RemoveFromVersionId or both.');
      }
      if (input.VersionStage === AWSCURRENT) {
        throw new LocalAwsException(E.InvalidParameter, 'You can only move staging label AWSCURRENT to a different secret version. It can\u2019t be completely removed.');
      }
      if (!holder || holder.versionId !== input.RemoveFromVersionId) {
        throw new LocalAwsException(E.InvalidParameter, `The staging label ${input.VersionStage} is not attached to version ${input.RemoveFromVersionId}.`);
      }
      holder.stages = holder.stages.filter((s) => s !== input.VersionStage);
    }
    secret.lastChangedMs = this.clock.now().getTime();
    return { ARN: secret.arn, Name: secret.name };
  }

  describeSecret(region: string, raw: unknown) {
    const input = parseInput(describeSecretInput, raw);
    const secret = this.find(region, input.SecretId);
    return {
      ARN: secret.arn,
      Name: secret.name,
      ...(secret.description === undefined ? {} : { Description: secret.description }),
      ...(secret.kmsKeyId === undefined ? {} : { KmsKeyId: secret.kmsKeyId }),
      RotationEnabled: false,
      CreatedDate: epochSeconds(new Date(secret.createdMs)),
      LastChangedDate: epochSeconds(new Date(secret.lastChangedMs)),
      ...(secret.lastAccessedMs === undefined ? {} : { LastAccessedDate: epochSeconds(new Date(secret.lastAccessedMs)) }),
      ...(secret.tags.length === 0 ? {} : { Tags: secret.tags }),
      VersionIdsToStages: Object.fromEntries(secret.versions.filter((v) => v.stages.length > 0).map((v) => [v.versionId, [...v.stages]])),
    };
  }

  private find(region: string, id: string): Secret {
    const secret = (this.state.regions[region] ?? []).find((s) => s.name === id || s.arn === id);
    if (!secret) throw notFound("Secrets Manager can't find the specified secret.");
    return secret;
  }

  private addVersion(secret: Secret, versionId: string, input: { SecretString?: string | undefined; SecretBinary?: string | undefined }, stages: readonly string[]): SecretVersion {
    const now = this.clock.now().getTime();
    const version: SecretVersion = {
      versionId,
      ...(input.SecretString === undefined ? {} : { secretString: input.SecretString }),
      ...(input.SecretBinary === undefined ? {} : { secretBinary: input.SecretBinary }),
      stages: [],
      createdMs: now,
    };
    secret.versions.push(version);
    for (const label of new Set(stages)) this.attach(secret, version, label);
    secret.lastChangedMs = now;
    return version;
  }

  /** Puts `label` on `target`, taking it off whichever version had it; AWSCURRENT leaves AWSPREVIOUS behind. */
  private attach(secret: Secret, target: SecretVersion, label: string): void {
    const previous = secret.versions.find((v) => v !== target && v.stages.includes(label));
    if (previous) previous.stages = previous.stages.filter((s) => s !== label);
    if (!target.stages.includes(label)) target.stages.push(label);
    if (label === AWSCURRENT && previous) {
      for (const v of secret.versions) v.stages = v.stages.filter((s) => s !== AWSPREVIOUS);
      previous.stages.push(AWSPREVIOUS);
    }
  }
}

function assertOneValue(secretString: string | undefined, secretBinary: string | undefined, required: boolean): void {
  if (secretString !== undefined && secretBinary !== undefined) {
    throw new LocalAwsException(E.InvalidParameter, "You can't specify both a binary secret value and a string secret value in the same secret.");
  }
  if (required && secretString === undefined && secretBinary === undefined) {
    throw new LocalAwsException(E.InvalidParameter, 'You must provide either SecretString or SecretBinary.');
  }
}

function notFound(message: string): LocalAwsException {
  return new LocalAwsException(E.ResourceNotFound, message);
}

function randomSuffix(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  return Array.from(randomBytes(6), (b) => alphabet[b % alphabet.length]).join('');
}

function startOfDay(date: Date): number {
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
}
