import { z } from 'zod';
import { ConfigException } from './config.exception';

/**
 * zod's default messages can quote the received value ("received 'hunter2'"); a config
 * error must never echo a value (it may be a password), so every message is rewritten.
 */
const safeErrorMap: z.ZodErrorMap = (issue, ctx) => {
  if (issue.code === z.ZodIssueCode.invalid_type && issue.received === 'undefined') return { message: 'required' };
  if (issue.code === z.ZodIssueCode.invalid_enum_value) return { message: `expected one of ${issue.options.join(', ')}` };
  if (issue.code === z.ZodIssueCode.invalid_type) return { message: `expected ${issue.expected}` };
  if (issue.code === z.ZodIssueCode.custom) return { message: issue.message ?? 'invalid' };
  return { message: ctx.defaultError.replace(/, received .*$/, '') };
};

/**
 * Validates the environment against an app's schema (a zod object over flat variable
 * names, transformed into nested typed config) before anything starts.
 *
 * @throws ConfigException naming every missing or invalid variable, never its value.
 */
export function loadConfig<S extends z.ZodTypeAny>(schema: S, env: NodeJS.ProcessEnv = process.env): z.output<S> {
  const result = schema.safeParse(env, { errorMap: safeErrorMap });
  if (result.success) return result.data as z.output<S>;
  const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(environment)'}: ${issue.message}`);
  throw new ConfigException([...new Set(problems)]);
}
