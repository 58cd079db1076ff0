import type { z } from 'zod';
import { LocalAwsErrorType, LocalAwsException } from './local-aws.exception';

/**
 * Validates a request body against an operation's input shape. The message follows AWS's
 * validation wording ("1 validation error detected: ...") without echoing values.
 */
export function parseInput<S extends z.ZodTypeAny>(schema: S, raw: unknown): z.output<S> {
  const result = schema.safeParse(raw ?? {});
  if (result.success) return result.data as z.output<S>;
  const problems = result.error.issues.map((issue) => {
    const field = issue.path.join('.') || 'input';
    return issue.code === 'invalid_type' && issue.received === 'undefined'
      ? `Value null at '${field}' failed to satisfy constraint: Member must not be null`
      : `Value at '${field}' failed to satisfy constraint: ${issue.message}`;
  });
  throw new LocalAwsException(
    LocalAwsErrorType.Validation,
    `${problems.length} validation error${problems.length > 1 ? 's' : ''} detected: ${problems.join('; ')}`,
  );
}
