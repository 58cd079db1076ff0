/** A cluster that may take a request, with its weight. */
export interface Candidate {
  readonly id: string;
  readonly weight: number;
}

/**
 * Picks one candidate with probability proportional to its weight; undefined when the
 * weights sum to 0. When every candidate has weight 0 but some exist, the caller decides
 * whether zero-weight clusters may serve as a last resort (the router does, for retries).
 */
export function weightedChoice<C extends Candidate>(candidates: readonly C[], random: () => number = Math.random): C | undefined {
  const total = candidates.reduce((sum, c) => sum + Math.max(0, c.weight), 0);
  if (total <= 0) return undefined;
  let point = random() * total;
  for (const candidate of candidates) {
    point -= Math.max(0, candidate.weight);
    if (point < 0) return candidate;
  }
  return [...candidates].reverse().find((c) => c.weight > 0);
}
