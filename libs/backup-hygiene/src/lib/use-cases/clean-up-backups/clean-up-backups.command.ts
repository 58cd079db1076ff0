/** Delete a cluster's backups taken before a point in time (e.g. before a password rotation). */
export interface CleanUpBackupsCommand {
  readonly clusterId: string;
  /** Backups created strictly before this instant are candidates. */
  readonly olderThan: Date;
  /** Report what would be deleted and delete nothing. */
  readonly dryRun: boolean;
}
