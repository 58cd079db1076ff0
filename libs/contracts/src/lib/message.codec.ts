import type { z } from 'zod';
import { ContractsException, ContractsExceptionCode } from './contracts.exception';
import { envelopeSchema } from './envelope.schema';
import { MESSAGE_REGISTRY, isMessageType } from './message-registry';
import type { AnyMessage, Message } from './message';

/** Kafka's default `max.message.bytes` is about 1 MiB; nothing keyfleet sends comes near it. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1_000_000;

export type DecodeResult = { ok: true; message: AnyMessage } | { ok: false; error: ContractsException };

function firstIssue(error: z.ZodError, prefix: string): { path: string; reason: string } {
  const issue = error.issues[0];
  const path = [prefix, ...(issue?.path ?? [])].filter((p) => p !== '').join('.');
  return { path, reason: issue?.message ?? 'invalid' };
}

/**
 * Validates a parsed value as a keyfleet message: envelope first, then `data` against the
 * schema of its type. Never throws; the error names the field and the reason but never
 * echoes the value (it may be secret).
 */
export function parseMessage(value: unknown): DecodeResult {
  const envelope = envelopeSchema.safeParse(value);
  if (!envelope.success) {
    const { path, reason } = firstIssue(envelope.error, '');
    return { ok: false, error: new ContractsException(ContractsExceptionCode.InvalidEnvelope, path, reason) };
  }
  const { type } = envelope.data;
  if (!isMessageType(type)) {
    return {
      ok: false,
      error: new ContractsException(ContractsExceptionCode.UnknownType, 'type', 'is not a known message type'),
    };
  }
  const data = MESSAGE_REGISTRY[type].schema.safeParse(envelope.data.data);
  if (!data.success) {
    const { path, reason } = firstIssue(data.error, 'data');
    return { ok: false, error: new ContractsException(ContractsExceptionCode.InvalidData, path, reason) };
  }
  return { ok: true, message: { ...envelope.data, type, data: data.data } as AnyMessage };
}

/** Decodes bytes from the wire. Never throws: malformed, oversized or invalid input gives `ok: false`. */
export function decodeMessage(bytes: Buffer | null | undefined, maxBytes = DEFAULT_MAX_MESSAGE_BYTES): DecodeResult {
  if (!bytes || bytes.length === 0) {
    return { ok: false, error: new ContractsException(ContractsExceptionCode.MalformedJson, '', 'message is empty') };
  }
  if (bytes.length > maxBytes) {
    return {
      ok: false,
      error: new ContractsException(ContractsExceptionCode.TooLarge, '', `message is ${bytes.length} bytes, limit ${maxBytes}`),
    };
  }
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    return { ok: false, error: new ContractsException(ContractsExceptionCode.MalformedJson, '', 'message is not valid JSON') };
  }
  return parseMessage(value);
}

/**
 * Serialises a message for the wire after validating it, so a producer can never publish
 * what a consumer would reject. Throws `ContractsException` on an invalid message.
 */
export function encodeMessage(message: Message, maxBytes = DEFAULT_MAX_MESSAGE_BYTES): Buffer {
  const checked = parseMessage(message);
  if (!checked.ok) throw checked.error;
  const bytes = Buffer.from(JSON.stringify(message), 'utf8');
  if (bytes.length > maxBytes) {
    throw new ContractsException(ContractsExceptionCode.TooLarge, '', `message is ${bytes.length} bytes, limit ${maxBytes}`);
  }
  return bytes;
}
