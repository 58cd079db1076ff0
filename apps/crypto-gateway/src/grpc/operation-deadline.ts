/**
 * When an operation must be done, in epoch ms: the caller's deadline, but never later than
 * `limitMs` from `now` (grpc-js gives Infinity when the caller set none). Without the cap a call
 * with no deadline would wait forever on a hung HSM, and its breaker would never hear of it.
 */
export function operationDeadline(callerDeadline: Date | number, now: number, limitMs: number): number {
  const at = callerDeadline instanceof Date ? callerDeadline.getTime() : callerDeadline;
  const cap = now + limitMs;
  return Number.isFinite(at) ? Math.min(at, cap) : cap;
}
