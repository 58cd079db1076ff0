export type { BackupCatalog, BackupInfo } from './lib/backup-catalog';
export type { CleanUpBackupsCommand } from './lib/use-cases/clean-up-backups/clean-up-backups.command';
export { CleanUpBackupsUseCase, type CleanUpBackupsReport, type KeepReason } from './lib/use-cases/clean-up-backups/clean-up-backups.use-case';
