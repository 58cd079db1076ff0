import type { ClusterHsmData } from '../cluster-hsm/cluster-hsm.model';

/** Persisted CloudHSMv2 state. Times are epoch milliseconds; the wire uses epoch seconds. */

export type ClusterState =
  | 'CREATE_IN_PROGRESS'
  | 'UNINITIALIZED'
  | 'INITIALIZE_IN_PROGRESS'
  | 'INITIALIZED'
  | 'ACTIVE'
  | 'UPDATE_IN_PROGRESS'
  | 'MODIFY_IN_PROGRESS'
  | 'ROLLBACK_IN_PROGRESS'
  | 'DELETE_IN_PROGRESS'
  | 'DELETED'
  | 'DEGRADED';
export type HsmState = 'CREATE_IN_PROGRESS' | 'ACTIVE' | 'DEGRADED' | 'DELETE_IN_PROGRESS' | 'DELETED';
export type BackupState = 'CREATE_IN_PROGRESS' | 'READY' | 'DELETED' | 'PENDING_DELETION';
export type HsmType = 'hsm1.medium' | 'hsm2m.medium';
export type ClusterMode = 'FIPS' | 'NON_FIPS';
export interface Tag {
  Key: string;
  Value: string;
}

export interface HsmRecord {
  hsmId: string;
  availabilityZone: string;
  subnetId: string;
  eniId: string;
  eniIp: string;
  hsmType: HsmType;
  state: HsmState;
  stateMessage?: string;
  /** When a state in progress completes. */
  dueMs?: number;
}

export interface ClusterRecord {
  clusterId: string;
  hsmType: HsmType;
  mode: ClusterMode;
  networkType: 'IPV4' | 'DUALSTACK';
  state: ClusterState;
  stateMessage?: string;
  subnetMapping: Record<string, string>;
  vpcId: string;
  securityGroup: string;
  retentionDays: number;
  createdMs: number;
  sourceBackupId?: string;
  tags: Tag[];
  hsms: HsmRecord[];
  dueMs?: number;
  /** Set while MODIFY_IN_PROGRESS or ROLLBACK_IN_PROGRESS: the type being moved to, and from. */
  migration?: { fromType: HsmType; toType: HsmType; startedMs: number; rollbackUntilMs: number; hsmsDone: number };
  /** Last time a backup was taken (daily backups are due 24 h after it). */
  lastBackupMs?: number;
  /** The cluster's certificate signing request, made with its first HSM (PEM). */
  csrPem?: string;
  /** The certificate the owner signed for it at InitializeCluster, and their trust anchor (PEM). */
  clusterCertificatePem?: string;
  trustAnchorPem?: string;
  /** Users (and later keys) inside the cluster's HSMs. */
  hsm?: ClusterHsmData;
}

export interface BackupRecord {
  backupId: string;
  backupArn: string;
  state: BackupState;
  clusterId: string;
  createdMs: number;
  hsmType: HsmType;
  mode: ClusterMode;
  neverExpires: boolean;
  tags: Tag[];
  copiedMs?: number;
  sourceRegion?: string;
  sourceBackup?: string;
  sourceCluster?: string;
  deleteMs?: number;
  dueMs?: number;
  /** Copies have no retention policy of their own. */
  isCopy?: boolean;
  /** What the backup holds: a copy of the cluster's users and keys when it was taken. */
  hsm?: ClusterHsmData;
}

export interface CloudHsmRegionState {
  clusters: ClusterRecord[];
  backups: BackupRecord[];
}

export interface CloudHsmV2State {
  regions: Record<string, CloudHsmRegionState>;
}

export const emptyCloudHsmV2State = (): CloudHsmV2State => ({ regions: {} });

/** How long emulated work takes. Tests use milliseconds, a demo realistic minutes. */
export interface CloudHsmTimings {
  readonly clusterCreateMs: number;
  readonly hsmCreateMs: number;
  readonly hsmDeleteMs: number;
  readonly clusterDeleteMs: number;
  readonly clusterInitializeMs: number;
  readonly backupMs: number;
  /** Replacing one HSM during an hsm1 -> hsm2m migration or a rollback. */
  readonly migrationStepMs: number;
}

export const INSTANT_TIMINGS: CloudHsmTimings = {
  clusterCreateMs: 0,
  hsmCreateMs: 0,
  hsmDeleteMs: 0,
  clusterDeleteMs: 0,
  clusterInitializeMs: 0,
  backupMs: 0,
  migrationStepMs: 0,
};

/** Roughly what AWS takes (cluster minutes, HSM several minutes, migration ~30 min per HSM). */
export const REALISTIC_TIMINGS: CloudHsmTimings = {
  clusterCreateMs: 3 * 60_000,
  hsmCreateMs: 8 * 60_000,
  hsmDeleteMs: 2 * 60_000,
  clusterDeleteMs: 2 * 60_000,
  clusterInitializeMs: 60_000,
  backupMs: 60_000,
  migrationStepMs: 30 * 60_000,
};
