import type { BackupCatalog, BackupInfo } from '../../backup-catalog';
import { CleanUpBackupsUseCase } from './clean-up-backups.use-case';

const day = (n: number) => new Date(Date.UTC(2026, 10, n));
const backup = (id: string, created: Date, extra: Partial<BackupInfo> = {}): BackupInfo => ({
  backupId: id,
  clusterId: 'cluster-aaaaaaaaaaa',
  state: 'READY',
  createdAt: created,
  neverExpires: false,
  ...extra,
});

class FakeCatalog implements BackupCatalog {
  readonly deleted: string[] = [];
  constructor(
    private readonly backups: BackupInfo[],
    private readonly refuse: string[] = [],
  ) {}
  async listBackups() {
    return [...this.backups];
  }
  async deleteBackup(id: string) {
    if (this.refuse.includes(id)) throw Object.assign(new Error('backup is locked'), { name: 'CloudHsmInvalidRequestException' });
    this.deleted.push(id);
  }
}

describe(CleanUpBackupsUseCase.name, () => {
  const backups = [
    backup('backup-d', day(4)),
    backup('backup-a', day(1)),
    backup('backup-b', day(2), { neverExpires: true }),
    backup('backup-c', day(3)),
    backup('backup-p', day(1), { state: 'PENDING_DELETION' }),
    backup('backup-e', day(10)),
  ];

  it('deletes the READY backups older than the cutoff, oldest first, keeping marked and newer ones', async () => {
    const catalog = new FakeCatalog(backups);
    const report = await new CleanUpBackupsUseCase(catalog).execute({ clusterId: 'cluster-aaaaaaaaaaa', olderThan: day(4), dryRun: false });
    expect(catalog.deleted).toEqual(['backup-a', 'backup-c']);
    expect(report.kept.map((k) => [k.backup.backupId, k.reason])).toEqual([
      ['backup-p', 'not-ready'],
      ['backup-b', 'never-expires'],
      ['backup-d', 'newer-than-cutoff'],
      ['backup-e', 'newest-backup-of-cluster'],
    ]);
  });

  it('never deletes the newest backup, even when every backup is older than the cutoff', async () => {
    const catalog = new FakeCatalog(backups);
    await new CleanUpBackupsUseCase(catalog).execute({ clusterId: 'cluster-aaaaaaaaaaa', olderThan: day(30), dryRun: false });
    expect(catalog.deleted).toEqual(['backup-a', 'backup-c', 'backup-d']);
  });

  it('deletes nothing in a dry run and reports exactly what a real run would delete', async () => {
    const catalog = new FakeCatalog(backups);
    const lines: string[] = [];
    const report = await new CleanUpBackupsUseCase(catalog).execute({ clusterId: 'cluster-aaaaaaaaaaa', olderThan: day(4), dryRun: true }, (l) => lines.push(l));
    expect(catalog.deleted).toEqual([]);
    expect(report.deleted.map((b) => b.backupId)).toEqual(['backup-a', 'backup-c']);
    expect(lines).toEqual([
      'cluster-aaaaaaaaaaa: 2 of 6 backups older than 2026-11-04T00:00:00.000Z to delete (dry run)',
      '[1/2] would delete backup-a (created 2026-11-01T00:00:00.000Z)',
      '[2/2] would delete backup-c (created 2026-11-03T00:00:00.000Z)',
    ]);
  });

  it('reports a refused deletion and carries on with the others', async () => {
    const catalog = new FakeCatalog(backups, ['backup-a']);
    const report = await new CleanUpBackupsUseCase(catalog).execute({ clusterId: 'cluster-aaaaaaaaaaa', olderThan: day(4), dryRun: false });
    expect(catalog.deleted).toEqual(['backup-c']);
    expect(report.failed).toEqual([{ backup: backups[1], reason: 'CloudHsmInvalidRequestException: backup is locked' }]);
  });
});
