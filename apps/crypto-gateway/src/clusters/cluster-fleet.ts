import type { ClusterSet } from '@keyfleet/gateway';
import type { ClusterRuntime } from './cluster-runtime';

/** The gateway's clusters by id (the `ClusterSet` the router reads). */
export class ClusterFleet implements ClusterSet {
  private readonly byId: Map<string, ClusterRuntime>;

  constructor(clusters: readonly ClusterRuntime[]) {
    this.byId = new Map(clusters.map((c) => [c.id, c]));
  }

  get(id: string): ClusterRuntime | undefined {
    return this.byId.get(id);
  }

  all(): readonly ClusterRuntime[] {
    return [...this.byId.values()];
  }

  async close(): Promise<void> {
    await Promise.all(this.all().map((c) => c.close()));
  }
}
