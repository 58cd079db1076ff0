import { CliUsageError, parseCliArgs } from './cli-args';

describe(parseCliArgs.name, () => {
  it('parses key create with its options', () => {
    expect(parseCliArgs(['key', 'create', 'payments', '--type', 'aes-256', '--usage', 'encrypt-decrypt,wrap-unwrap', '--timeout', '5'])).toEqual({
      kind: 'key-create',
      alias: 'payments',
      keyType: 'aes-256',
      usage: ['encrypt-decrypt', 'wrap-unwrap'],
      description: undefined,
      actor: undefined,
      timeoutMs: 5_000,
      wait: true,
    });
  });

  it('shows help without arguments', () => {
    expect(parseCliArgs([])).toEqual({ kind: 'help' });
  });

  it('parses the smoke scenario', () => {
    expect(parseCliArgs(['smoke', '--actor', 'ci'])).toEqual({ kind: 'smoke', actor: 'ci', timeoutMs: 30_000 });
  });

  it.each([
    [['key', 'create', 'Bad Alias', '--type', 'aes-256', '--usage', 'mac'], /^alias: must be 1-64 characters/],
    [['key', 'create', 'ok', '--type', 'aes-1024', '--usage', 'mac'], /^--type: expected one of aes-128/],
    [['key', 'create', 'ok', '--type', 'aes-256'], /^--usage is required$/],
    [['key', 'create', 'ok', '--type', 'aes-256', '--usage', 'fly'], /^--usage: expected any of/],
    [['key', 'create', '--type', 'aes-256', '--usage', 'mac'], /^key create: expected exactly one <alias>$/],
    [['smoke', '--timeout', 'soon'], /^--timeout: expected a number of seconds/],
    [['key', 'explode'], /^unknown command: key explode$/],
    [['smoke', '--colour'], /Unknown option '--colour'/],
  ])('refuses %j with a message saying what to fix', (argv, message) => {
    expect(() => parseCliArgs(argv)).toThrow(CliUsageError);
    expect(() => parseCliArgs(argv)).toThrow(message);
  });
});
