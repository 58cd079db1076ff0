import { AdjustableClock } from '../protocol/clock';
import { LocalAwsErrorType, LocalAwsException } from '../protocol/local-aws.exception';
import { AWSCURRENT, AWSPENDING, AWSPREVIOUS, SecretsManagerEmulator, emptySecretsManagerState } from './secrets-manager.emulator';

const R = 'eu-west-1';
const t = (n: number) => `${'0'.repeat(31)}${n}`.slice(-32); // 32-char client request tokens

function error(fn: () => unknown): LocalAwsException {
  try {
    fn();
  } catch (err) {
    if (err instanceof LocalAwsException) return err;
    throw err;
  }
  throw new Error('expected a LocalAwsException');
}

describe(SecretsManagerEmulator.name, () => {
  let clock: AdjustableClock;
  let sut: SecretsManagerEmulator;
  const stages = () => sut.describeSecret(R, { SecretId: 'cu/app1' }).VersionIdsToStages;

  beforeEach(() => {
    clock = new AdjustableClock(() => Date.UTC(2026, 10, 22, 10, 0, 0));
    sut = new SecretsManagerEmulator(emptySecretsManagerState(), clock, '111122223333');
    sut.createSecret(R, { Name: 'cu/app1', SecretString: 'app1:first-password', ClientRequestToken: t(1) });
  });

  it('creates a secret whose first version is AWSCURRENT, with a regional ARN', () => {
    const created = sut.createSecret(R, { Name: 'cu/app2', SecretString: 's', ClientRequestToken: t(9) });
    expect(created.ARN).toMatch(/^arn:aws:secretsmanager:eu-west-1:111122223333:secret:cu\/app2-[A-Za-z0-9]{6}$/);
    expect(sut.getSecretValue(R, { SecretId: created.ARN })).toMatchObject({ VersionId: t(9), SecretString: 's', VersionStages: [AWSCURRENT] });
  });

  it('moves AWSCURRENT to a new value and leaves AWSPREVIOUS on the old one', () => {
    sut.putSecretValue(R, { SecretId: 'cu/app1', SecretString: 'second', ClientRequestToken: t(2) });
    expect(stages()).toEqual({ [t(1)]: [AWSPREVIOUS], [t(2)]: [AWSCURRENT] });
    sut.putSecretValue(R, { SecretId: 'cu/app1', SecretString: 'third', ClientRequestToken: t(3) });
    expect(stages()).toEqual({ [t(2)]: [AWSPREVIOUS], [t(3)]: [AWSCURRENT] });
    expect(sut.getSecretValue(R, { SecretId: 'cu/app1', VersionStage: AWSPREVIOUS }).SecretString).toBe('second');
  });

  it('runs the rotation protocol: AWSPENDING staged, then promoted with an explicit move', () => {
    sut.putSecretValue(R, { SecretId: 'cu/app1', SecretString: 'next', ClientRequestToken: t(2), VersionStages: [AWSPENDING] });
    expect(stages()).toEqual({ [t(1)]: [AWSCURRENT], [t(2)]: [AWSPENDING] });
    const refused = error(() => sut.updateSecretVersionStage(R, { SecretId: 'cu/app1', VersionStage: AWSCURRENT, MoveToVersionId: t(2) }));
    expect(refused.type).toBe(LocalAwsErrorType.InvalidParameter);
    sut.updateSecretVersionStage(R, { SecretId: 'cu/app1', VersionStage: AWSCURRENT, MoveToVersionId: t(2), RemoveFromVersionId: t(1) });
    sut.updateSecretVersionStage(R, { SecretId: 'cu/app1', VersionStage: AWSPENDING, RemoveFromVersionId: t(2) });
    expect(stages()).toEqual({ [t(1)]: [AWSPREVIOUS], [t(2)]: [AWSCURRENT] });
  });

  it('treats a retried put with the same token and data as a no-op, and refuses different data', () => {
    sut.putSecretValue(R, { SecretId: 'cu/app1', SecretString: 'second', ClientRequestToken: t(2) });
    expect(sut.putSecretValue(R, { SecretId: 'cu/app1', SecretString: 'second', ClientRequestToken: t(2) })).toMatchObject({ VersionStages: [AWSCURRENT] });
    expect(stages()).toEqual({ [t(1)]: [AWSPREVIOUS], [t(2)]: [AWSCURRENT] });
    expect(error(() => sut.putSecretValue(R, { SecretId: 'cu/app1', SecretString: 'other', ClientRequestToken: t(2) })).type).toBe(
      LocalAwsErrorType.ResourceExists,
    );
  });

  it('never removes AWSCURRENT without moving it', () => {
    const refused = error(() => sut.updateSecretVersionStage(R, { SecretId: 'cu/app1', VersionStage: AWSCURRENT, RemoveFromVersionId: t(1) }));
    expect(refused.message).toMatch(/can only move staging label AWSCURRENT/);
  });

  it('answers unknown secrets, versions and labels with ResourceNotFoundException', () => {
    expect(error(() => sut.getSecretValue(R, { SecretId: 'nope' })).message).toBe("Secrets Manager can't find the specified secret.");
    expect(error(() => sut.getSecretValue(R, { SecretId: 'cu/app1', VersionStage: AWSPENDING })).message).toBe(
      "Secrets Manager can't find the specified secret value for staging label: AWSPENDING",
    );
    expect(error(() => sut.getSecretValue('us-east-1', { SecretId: 'cu/app1' })).type).toBe(LocalAwsErrorType.ResourceNotFound);
  });

  it('refuses a duplicate name, a double value and a malformed request with the AWS error types', () => {
    expect(error(() => sut.createSecret(R, { Name: 'cu/app1', SecretString: 'x' })).type).toBe(LocalAwsErrorType.ResourceExists);
    expect(error(() => sut.createSecret(R, { Name: 'b', SecretString: 'x', SecretBinary: 'eA==' })).type).toBe(LocalAwsErrorType.InvalidParameter);
    const invalid = error(() => sut.getSecretValue(R, {}));
    expect(invalid.type).toBe(LocalAwsErrorType.Validation);
    expect(invalid.message).toBe("1 validation error detected: Value null at 'SecretId' failed to satisfy constraint: Member must not be null");
  });

  it('records the day of last access and timestamps in epoch seconds', () => {
    clock.advance(3_600_000);
    const value = sut.getSecretValue(R, { SecretId: 'cu/app1' });
    expect(value.CreatedDate).toBe(Date.UTC(2026, 10, 22, 10, 0, 0) / 1000);
    expect(sut.describeSecret(R, { SecretId: 'cu/app1' }).LastAccessedDate).toBe(Date.UTC(2026, 10, 22) / 1000);
  });
});
