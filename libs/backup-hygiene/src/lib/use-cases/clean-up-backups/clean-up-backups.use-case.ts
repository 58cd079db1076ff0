import type { BackupCatalog, BackupInfo } from '../../backup-catalog';
import type { CleanUpBackupsCommand } from './clean-up-backups.command';

export type KeepReason = 'newer-than-cutoff' | 'newest-backup-of-cluster' | 'never-expires' | 'not-ready';

export interface CleanUpBackupsReport {
  readonly clusterId: string;
  readonly dryRun: boolean;
  /** Deleted (or, in a dry run, to be deleted), oldest first. */
  readonly deleted: readonly BackupInfo[];
  readonly kept: readonly { backup: BackupInfo; reason: KeepReason }[];
  /** Deletions the service refused; the others still went ahead. */
  readonly failed: readonly { backup: BackupInfo; reason: string }[];
}

/**
 * Deletes backups that still hold secrets an operator has rotated away: every READY backup
 * of the cluster older than the cutoff, except the cluster's newest backup (a cluster must
 * stay restorable) and backups explicitly marked NeverExpires. Run it as a dry run first:
 * the report lists exactly what a real run deletes. A deleted backup stays restorable for
 * 7 days (PENDING_DELETION), as CloudHSM keeps it.
 */
export class CleanUpBackupsUseCase {
  constructor(private readonly catalog: BackupCatalog) {}

  async execute(command: CleanUpBackupsCommand, onProgress: (line: string) => void = () => undefined): Promise<CleanUpBackupsReport> {
    const backups = (await this.catalog.listBackups(command.clusterId)).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
    const newestReady = [...backups].reverse().find((b) => b.state === 'READY');
    const kept: { backup: BackupInfo; reason: KeepReason }[] = [];
    const candidates: BackupInfo[] = [];
    for (const backup of backups) {
      if (backup.state !== 'READY') kept.push({ backup, reason: 'not-ready' });
      else if (backup === newestReady) kept.push({ backup, reason: 'newest-backup-of-cluster' });
      else if (backup.neverExpires) kept.push({ backup, reason: 'never-expires' });
      else if (backup.createdAt.getTime() >= command.olderThan.getTime()) kept.push({ backup, reason: 'newer-than-cutoff' });
      else candidates.push(backup);
    }
    const verb = command.dryRun ? 'would delete' : 'deleting';
    onProgress(`${command.clusterId}: ${candidates.length} of ${backups.length} backups older than ${command.olderThan.toISOString()} to delete${command.dryRun ? ' (dry run)' : ''}`);
    const deleted: BackupInfo[] = [];
    const failed: { backup: BackupInfo; reason: string }[] = [];
    for (const [i, backup] of candidates.entries()) {
      onProgress(`[${i + 1}/${candidates.length}] ${verb} ${backup.backupId} (created ${backup.createdAt.toISOString()})`);
      if (command.dryRun) {
        deleted.push(backup);
        continue;
      }
      try {
        await this.catalog.deleteBackup(backup.backupId);
        deleted.push(backup);
      } catch (err) {
        failed.push({ backup, reason: err instanceof Error ? `${err.name}: ${err.message}` : 'deletion failed' });
      }
    }
    return { clusterId: command.clusterId, dryRun: command.dryRun, deleted, kept, failed };
  }
}
