/** What the clean-up needs to know of a backup. */
export interface BackupInfo {
  readonly backupId: string;
  readonly clusterId: string;
  readonly state: string;
  readonly createdAt: Date;
  readonly neverExpires: boolean;
}

/**
 * The port to a cluster's backups (CloudHSMv2 DescribeBackups/DeleteBackup in production,
 * cloudhsm-local locally). `@keyfleet/aws` provides the adapter.
 */
export interface BackupCatalog {
  /** Every backup of the cluster that is not yet deleted, any order. */
  listBackups(clusterId: string): Promise<BackupInfo[]>;
  deleteBackup(backupId: string): Promise<void>;
}
