import { z } from 'zod';

/**
 * Event: migration-service set a key ring's routing weights (a blue/green canary step such
 * as 90/10, the cut-over 0/100, or a rollback). The crypto gateway applies them to new
 * requests; requests in flight finish where they started. Subject: the ring.
 */
export const routingWeightsChangedV1Schema = z.object({
  ring: z.string().min(1).max(128),
  /** Cluster id -> weight (0..1000); 0 takes a cluster out of rotation. */
  weights: z.record(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/), z.number().int().min(0).max(1000)).refine((w) => Object.keys(w).length > 0, 'must name at least one cluster'),
});
export type RoutingWeightsChangedV1 = z.infer<typeof routingWeightsChangedV1Schema>;
