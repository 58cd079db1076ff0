#!/usr/bin/env node
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { Registry } from 'prom-client';
import { ConfigException } from '@keyfleet/config';
import { createMessage, MessageTypes, type KeyType, type KeyUsage } from '@keyfleet/contracts';
import { MessagePublisher, MessagingMetrics, PATIENT_RETRIES, createKafkaClient } from '@keyfleet/messaging';
import { CliUsageError, USAGE, parseCliArgs } from './cli-args';
import { loadCliConfig, operatorId, type CliConfig } from './cli.config';
import { CommandFollower, describeError, followWithRetries, type FollowOutcome } from './command-follower';

const EXIT = { done: 0, failed: 1, usage: 2, timedOut: 3 } as const;
const print = (line: string) => process.stdout.write(`${line}\n`);

interface KeyCreate {
  alias: string;
  keyType: KeyType;
  usage: KeyUsage[];
  description: string | undefined;
  actor: string;
  timeoutMs: number;
  wait: boolean;
}

async function createKey(config: CliConfig, request: KeyCreate): Promise<number> {
  // The CLI's own diagnostics go to stderr as JSON only when something is wrong.
  const logger = pino({ level: process.env['KEYFLEET_CLI_LOG_LEVEL'] ?? 'error' }, pino.destination(2));
  // No loop of its own retries for the CLI: kafkajs waits out a broker that is electing leaders or loading groups.
  const kafka = createKafkaClient({ brokers: config.kafka.brokers, clientId: 'keyfleet-cli', logger, logLevel: 'error', retry: PATIENT_RETRIES });
  const publisher = new MessagePublisher(kafka, new MessagingMetrics(new Registry()));
  await publisher.connect();
  try {
    const command = createMessage({
      type: MessageTypes.KeyCreateRequestedV1,
      source: 'keyfleet-cli',
      subject: request.alias,
      actor: { kind: 'operator', id: request.actor },
      data: {
        alias: request.alias,
        keyType: request.keyType,
        usage: request.usage,
        ...(request.description === undefined ? {} : { description: request.description }),
      },
    });
    const follower = new CommandFollower(kafka, publisher);
    const outcome = await followWithRetries(
      () => follower.publishAndFollow(command, { topicPrefix: config.kafka.topicPrefix, timeoutMs: request.wait ? request.timeoutMs : 0, print }),
      {
        attempts: 3,
        delayMs: 1_000,
        onRetry: (err, retry) => process.stderr.write(`keyfleet: Kafka refused a request (${describeError(err)}); trying again (${retry} of 2)\n`),
      },
    );
    return report(outcome, request.wait);
  } finally {
    await publisher.disconnect();
  }
}

function report(outcome: FollowOutcome, waited: boolean): number {
  switch (outcome.status) {
    case 'completed':
      print(`done: ${outcome.reply.type} recorded as audit record #${outcome.auditSequence}`);
      return EXIT.done;
    case 'rejected':
      print(`rejected: ${outcome.reason}`);
      return EXIT.failed;
    case 'dead-lettered':
      print(`failed: the command could not be processed (${outcome.reason})`);
      return EXIT.failed;
    case 'timed-out':
      if (!waited) return EXIT.done;
      print(`timed out waiting for ${outcome.waitingFor}: is the platform up? (npm run up; npm run infra:status)`);
      return EXIT.timedOut;
  }
}

async function main(argv: readonly string[]): Promise<number> {
  let command;
  try {
    command = parseCliArgs(argv);
  } catch (err) {
    if (!(err instanceof CliUsageError)) throw err;
    process.stderr.write(`keyfleet: ${err.message}\n\n${USAGE}\n`);
    return EXIT.usage;
  }
  if (command.kind === 'help') {
    print(USAGE);
    return EXIT.done;
  }
  let config: CliConfig;
  try {
    config = loadCliConfig();
  } catch (err) {
    if (!(err instanceof ConfigException)) throw err;
    process.stderr.write(`keyfleet: configuration error: ${err.problems.join('; ')}\n`);
    return EXIT.usage;
  }
  if (command.kind === 'smoke') {
    const alias = `smoke-${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`;
    print(`smoke: creating key '${alias}' (aes-256, encrypt-decrypt) and following it through key-service and audit-service`);
    return createKey(config, {
      alias,
      keyType: 'aes-256',
      usage: ['encrypt-decrypt'],
      description: 'smoke test key',
      actor: operatorId(command.actor, config),
      timeoutMs: command.timeoutMs,
      wait: true,
    });
  }
  return createKey(config, { ...command, actor: operatorId(command.actor, config) });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`keyfleet: ${describeError(err)}\n`);
    process.exit(EXIT.failed);
  },
);
