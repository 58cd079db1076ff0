import { z } from 'zod';
import { ConfigException } from './config.exception';
import { SECRET_FIELD } from './env-fields';

/** Variables whose value is never shown, whatever is wrong with it. Over-matching is fine. */
const SECRET_NAME = /PASS|SECRET|PIN|TOKEN|KEY|CREDENTIAL|PRIVATE/i;
/** Query parameters that carry secrets (libpq accepts `?password=`). */
const SECRET_QUERY_PARAM = /([?&;][^=&;]*(?:pass|secret|pin|token|key)[^=&;]*=)[^&;]*/gi;
const MAX_SHOWN_LENGTH = 80;

/**
 * zod's default messages may quote the received value ("received 'hunter2'"); values are
 * added back by `describeProblem` only where that is safe, so every message is rewritten.
 */
const safeErrorMap: z.ZodErrorMap = (issue, ctx) => {
  if (issue.code === z.ZodIssueCode.invalid_type && issue.received === 'undefined') return { message: 'required' };
  if (issue.code === z.ZodIssueCode.invalid_enum_value) return { message: `expected one of ${issue.options.join(', ')}` };
  if (issue.code === z.ZodIssueCode.invalid_type) return { message: `expected ${issue.expected}` };
  if (issue.code === z.ZodIssueCode.custom) return { message: issue.message ?? 'invalid' };
  return { message: ctx.defaultError.replace(/, received .*$/s, '') };
};

/**
 * Validates the environment against an app's schema (a zod object over flat variable
 * names such as `HTTP_PORT`, usually `.transform()`ed into nested typed config) before
 * anything starts.
 *
 * @param schema - the app's schema; fields built with `envFields.secret()` are never echoed.
 * @param env - the variables to read; `process.env` by default.
 * @returns the schema's output: the nested, typed configuration.
 * @throws ConfigException naming every missing or invalid variable and why, e.g.
 *   `HTTP_PORT: expected an integer 1-65535, got "abc"`. The received value is shown only
 *   for variables whose name does not look secret (PASS, SECRET, PIN, TOKEN, KEY...), with
 *   any URL password and secret query parameter masked.
 */
export function loadConfig<S extends z.ZodTypeAny>(schema: S, env: NodeJS.ProcessEnv = process.env): z.output<S> {
  const result = schema.safeParse(env, { errorMap: safeErrorMap });
  if (result.success) return result.data as z.output<S>;
  const shape = objectShape(schema);
  const problems = result.error.issues.map((issue) => describeProblem(issue, env, shape));
  throw new ConfigException([...new Set(problems)]);
}

function describeProblem(issue: z.ZodIssue, env: NodeJS.ProcessEnv, shape: z.ZodRawShape | undefined): string {
  const name = issue.path[0];
  if (typeof name !== 'string') return `(environment): ${issue.message}`;
  const value = env[name];
  const secret = SECRET_NAME.test(name) || isMarkedSecret(shape?.[name]);
  return value === undefined || secret ? `${name}: ${issue.message}` : `${name}: ${issue.message}, got ${showValue(value)}`;
}

/** A received value as it may appear in an error: URL credentials masked, quoted, bounded. */
export function showValue(value: string): string {
  const masked = value
    // Everything up to the last '@' may be user:password (a password may itself contain '@' or '/').
    .replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)?.*@/s, (_match, scheme: string | undefined) => `${scheme ?? ''}***@`)
    .replace(SECRET_QUERY_PARAM, '$1***');
  const bounded = masked.length > MAX_SHOWN_LENGTH ? `${masked.slice(0, MAX_SHOWN_LENGTH)}...` : masked;
  return JSON.stringify(bounded);
}

/** The flat object under an app schema's `.transform()`/`.refine()`/`.pipe()` wrappers. */
function objectShape(schema: z.ZodTypeAny): z.ZodRawShape | undefined {
  if (schema instanceof z.ZodObject) return schema.shape as z.ZodRawShape;
  if (schema instanceof z.ZodEffects) return objectShape((schema as z.ZodEffects<z.ZodTypeAny>).innerType());
  if (schema instanceof z.ZodPipeline) return objectShape((schema as z.ZodPipeline<z.ZodTypeAny, z.ZodTypeAny>)._def.in);
  return undefined;
}

function isMarkedSecret(field: z.ZodTypeAny | undefined): boolean {
  // `.optional()` and `.default()` carry the description of the field they wrap.
  return field?.description === SECRET_FIELD;
}
