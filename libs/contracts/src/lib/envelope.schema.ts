import { z } from 'zod';

/** RFC 9562 UUID version 7: time-ordered, so ids sort by creation time. */
export const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const ANY_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Envelope format version; bumped only for a breaking change of the envelope itself. */
export const SPEC_VERSION = '1.0';

/** Who caused a message: an operator (CLI), a keyfleet service, an application or the system (schedules). */
export const actorSchema = z.object({
  kind: z.enum(['operator', 'service', 'application', 'system']),
  id: z
    .string()
    .min(1, 'must not be empty')
    .max(128, 'must be at most 128 characters')
    .regex(/^[A-Za-z0-9._@:/-]+$/, 'may contain only letters, digits and . _ @ : / -'),
});
export type Actor = z.infer<typeof actorSchema>;

/**
 * The envelope every Kafka message carries (CloudEvents-like). `data` is validated
 * separately, against the schema registered for `type`.
 */
export const envelopeSchema = z.object({
  id: z.string().regex(UUID_V7, 'must be a UUIDv7'),
  type: z.string().regex(/^keyfleet\.[a-z]+\.[a-z-]+\.v[1-9][0-9]*$/, 'must look like keyfleet.<domain>.<name>.v<N>'),
  source: z
    .string()
    .min(1, 'must not be empty')
    .max(128, 'must be at most 128 characters'),
  subject: z
    .string()
    .min(1, 'must not be empty')
    .max(256, 'must be at most 256 characters'),
  time: z.string().datetime({ precision: 3, message: 'must be an ISO-8601 UTC time with milliseconds' }),
  specVersion: z.literal(SPEC_VERSION),
  correlationId: z.string().regex(ANY_UUID, 'must be a UUID'),
  causationId: z.string().regex(ANY_UUID, 'must be a UUID').nullable(),
  actor: actorSchema,
  data: z.unknown(),
});
export type EnvelopeFields = z.infer<typeof envelopeSchema>;
