import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HsmException, HsmExceptionCode } from '../hsm.exception';
import { ProcessCloudHsmCli, cliFailure, commandName } from './cloudhsm-cli.runner';

describe(ProcessCloudHsmCli.name, () => {
  let dir: string;
  /** A stand-in executable: prints what it was given (argv and credential variables) as the CLI's envelope, or the error it is told to. */
  const fakeCli = (body: string) => {
    const path = join(dir, `cli-${Math.random().toString(36).slice(2)}`);
    writeFileSync(path, `#!/usr/bin/env node\n${body}\n`);
    chmodSync(path, 0o700);
    return path;
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cloudhsm-cli-runner-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('passes the credentials in the environment only and returns the envelope data', async () => {
    const executable = fakeCli(
      `process.stdout.write(JSON.stringify({ error_code: 0, data: { argv: process.argv.slice(2), role: process.env.CLOUDHSM_ROLE, pin: process.env.CLOUDHSM_PIN, dest: process.env.DESTINATION_CLOUDHSM_PIN, extra: process.env.EXTRA } }))`,
    );
    const sut = new ProcessCloudHsmCli({ executable, env: { PATH: process.env['PATH'], EXTRA: 'yes' } });

    const data = await sut.run(['user', 'list'], { role: 'crypto-user', username: 'alice', password: 's3cret-pass' }, { role: 'crypto-user', username: 'alice', password: 'there-pass' });

    expect(data).toEqual({ argv: ['user', 'list'], role: 'crypto-user', pin: 'alice:s3cret-pass', dest: 'alice:there-pass', extra: 'yes' });
  });

  it('turns a refusal into an HsmException with the CLI reason and never the command line', async () => {
    const executable = fakeCli(`process.stdout.write(JSON.stringify({ error_code: 1, data: 'User app_red already exists' })); process.exit(1)`);
    const sut = new ProcessCloudHsmCli({ executable, env: { PATH: process.env['PATH'] } });

    const failure = await sut.run(['user', 'create', '--username', 'app_red', '--password', 'Very-secret-9']).catch((err: unknown) => err);

    expect(failure).toBeInstanceOf(HsmException);
    expect(failure).toMatchObject({ code: HsmExceptionCode.AlreadyExists, message: 'ALREADY_EXISTS: cloudhsm-cli user create: User app_red already exists' });
    expect(String((failure as Error).message)).not.toContain('Very-secret-9');
  });

  it('reports a missing executable or an answer that is not JSON as CLI_UNAVAILABLE', async () => {
    const missing = new ProcessCloudHsmCli({ executable: join(dir, 'nope') });
    const garbage = new ProcessCloudHsmCli({ executable: fakeCli(`process.stdout.write('Segmentation fault')`), env: { PATH: process.env['PATH'] } });

    await expect(missing.run(['user', 'list'])).rejects.toMatchObject({ code: HsmExceptionCode.CliUnavailable, message: 'CLI_UNAVAILABLE: cloudhsm-cli user list: executable not found' });
    await expect(garbage.run(['key', 'list', '--verbose'])).rejects.toMatchObject({ code: HsmExceptionCode.CliUnavailable, message: 'CLI_UNAVAILABLE: cloudhsm-cli key list: no JSON answer' });
  });

  it('ends a command that runs past its time', async () => {
    const sut = new ProcessCloudHsmCli({ executable: fakeCli('setTimeout(() => {}, 10_000)'), env: { PATH: process.env['PATH'] }, timeoutMs: 300 });

    await expect(sut.run(['key', 'list'])).rejects.toMatchObject({ code: HsmExceptionCode.CliUnavailable, message: 'CLI_UNAVAILABLE: cloudhsm-cli key list: timed out' });
  });
});

describe(cliFailure.name, () => {
  it.each([
    ['Key selection criteria matched 0 keys. Refine selection criteria to select a single key.', HsmExceptionCode.KeyNotFound],
    ['Login failed: invalid username, role or password', HsmExceptionCode.LoginFailed],
    ['Key 0x5 already exists on the destination cluster', HsmExceptionCode.AlreadyExists],
    ['Crypto user app_x does not exist', HsmExceptionCode.UserNotFound],
    ['Only the key owner can delete a key', HsmExceptionCode.CommandRefused],
  ])('classifies "%s"', (reason, code) => {
    expect(cliFailure('key delete', reason).code).toBe(code);
  });

  it('names the command by the words before its options', () => {
    expect(commandName(['key', 'generate-symmetric', 'aes', '--label', 'x'])).toBe('key generate-symmetric aes');
  });
});
