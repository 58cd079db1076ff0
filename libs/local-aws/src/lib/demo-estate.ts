import type { LocalAws } from './local-aws';

/** The tag that marks the demo estate, so seeding is idempotent. */
export const DEMO_TAG = { Key: 'keyfleet:estate', Value: 'demo' } as const;

export interface DemoEstate {
  readonly region: string;
  readonly clusterId: string;
  readonly created: boolean;
}

interface ClusterView {
  ClusterId: string;
  TagList?: { Key: string; Value: string }[];
}

/**
 * A ready estate to try keyfleet on: an ACTIVE hsm1.medium FIPS cluster with two HSMs in
 * different zones (the starting point of the hsm1 -> hsm2m migration). Created through the
 * emulator's own operations, its work completed at once whatever the configured timings;
 * left as it is when it already exists.
 */
export async function seedDemoEstate(localAws: LocalAws, region = 'us-east-1'): Promise<DemoEstate> {
  const hsm = localAws.cloudHsm;
  const { Clusters } = hsm.describeClusters(region, {}) as { Clusters: ClusterView[] };
  const existing = Clusters.find((c) => c.TagList?.some((t) => t.Key === DEMO_TAG.Key && t.Value === DEMO_TAG.Value));
  if (existing) return { region, clusterId: existing.ClusterId, created: false };
  const { Cluster } = hsm.createCluster(region, {
    HsmType: 'hsm1.medium',
    Mode: 'FIPS',
    SubnetIds: ['subnet-0d3e0a1b2c3d4e5f6', 'subnet-1d3e0a1b2c3d4e5f6'],
    TagList: [{ ...DEMO_TAG }, { Key: 'Name', Value: 'keyfleet demo (hsm1.medium, FIPS)' }],
  }) as { Cluster: ClusterView };
  hsm.completeNow(region, Cluster.ClusterId);
  for (const zone of [`${region}a`, `${region}b`]) await hsm.createHsm(region, { ClusterId: Cluster.ClusterId, AvailabilityZone: zone });
  hsm.completeNow(region, Cluster.ClusterId);
  hsm.markInitialized(region, Cluster.ClusterId);
  hsm.activate(region, Cluster.ClusterId);
  localAws.save();
  return { region, clusterId: Cluster.ClusterId, created: true };
}
