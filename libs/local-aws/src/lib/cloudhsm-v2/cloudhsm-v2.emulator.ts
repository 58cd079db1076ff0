import { X509Certificate, createHash, randomBytes } from 'node:crypto';
import { copyHsmData, hashPassword, newClusterHsmData } from '../cluster-hsm/cluster-hsm.model';
import type { HsmChangeListener } from '../cluster-hsm/hsm-change';
import { mirrorCluster, unmirrorCluster } from '../cluster-hsm/mirror-cluster';
import { createClusterCsr, publicKeyOfCsr } from './cluster-csr';
import { z } from 'zod';
import { epochSeconds, type Clock } from '../protocol/clock';
import { LocalAwsErrorType as E, LocalAwsException } from '../protocol/local-aws.exception';
import { parseInput } from '../protocol/parse-input';
import type {
  BackupRecord,
  CloudHsmRegionState,
  CloudHsmTimings,
  CloudHsmV2State,
  ClusterRecord,
  HsmRecord,
  HsmType,
  Tag,
} from './cloudhsm-v2.model';

const DAY_MS = 86_400_000;
/** A backup in PENDING_DELETION can be restored for 7 days, then it is purged. */
const RESTORE_WINDOW_MS = 7 * DAY_MS;
const MAX_HSMS_PER_CLUSTER = 28;
const ID_ALPHABET = '234567abcdefghijklmnopqrstuvwxyz';

const invalid = (message: string) => new LocalAwsException(E.CloudHsmInvalidRequest, message);
const notFound = (message: string) => new LocalAwsException(E.CloudHsmResourceNotFound, message);

const tagSchema = z.object({ Key: z.string().min(1).max(128), Value: z.string().max(256) });
const tagList = z.array(tagSchema).min(1).max(50);
const hsmType = z.string().max(32).regex(/^((p|)hsm[0-9][a-z.]*\.[a-zA-Z]+)$/, 'Member must satisfy the HsmType pattern');
const clusterId = z.string().regex(/^cluster-[2-7a-zA-Z]{11,16}$/, 'Member must satisfy regular expression pattern: cluster-[2-7a-zA-Z]{11,16}');
const backupId = z.string().regex(/^backup-[2-7a-zA-Z]{11,16}$/, 'Member must satisfy regular expression pattern: backup-[2-7a-zA-Z]{11,16}');
const retention = z.object({ Type: z.literal('DAYS'), Value: z.string().regex(/^[0-9]{1,3}$/) });
const nextToken = z.string().max(256).optional();

const schemas = {
  createCluster: z.object({
    HsmType: hsmType,
    SubnetIds: z.array(z.string().regex(/^subnet-[0-9a-fA-F]{8,17}$/, 'Member must satisfy the subnet id pattern')).min(1).max(10),
    BackupRetentionPolicy: retention.optional(),
    SourceBackupId: z.string().max(256).optional(),
    NetworkType: z.enum(['IPV4', 'DUALSTACK']).optional(),
    TagList: tagList.optional(),
    Mode: z.enum(['FIPS', 'NON_FIPS']).optional(),
  }),
  describeClusters: z.object({
    Filters: z.record(z.array(z.string())).optional(),
    NextToken: nextToken,
    MaxResults: z.number().int().min(1).max(25).optional(),
  }),
  createHsm: z.object({ ClusterId: clusterId, AvailabilityZone: z.string().regex(/^[a-z]{2}(-(gov|isob|iso))?-(east|west|north|south|central){1,2}-\d[a-z]$/, 'Member must satisfy the availability zone pattern'), IpAddress: z.string().optional() }),
  deleteHsm: z.object({ ClusterId: clusterId, HsmId: z.string().optional(), EniId: z.string().optional(), EniIp: z.string().optional() }),
  clusterOnly: z.object({ ClusterId: clusterId }),
  initializeCluster: z.object({
    ClusterId: clusterId,
    SignedCert: z.string().min(1).max(5000),
    TrustAnchor: z.string().min(1).max(5000),
  }),
  describeBackups: z.object({
    Filters: z.record(z.array(z.string())).optional(),
    NextToken: nextToken,
    MaxResults: z.number().int().min(1).max(50).optional(),
    Shared: z.boolean().optional(),
    SortAscending: z.boolean().optional(),
  }),
  backupOnly: z.object({ BackupId: backupId }),
  copyBackup: z.object({ DestinationRegion: z.string().regex(/^[a-z]{2}(-(gov))?-(east|west|north|south|central){1,2}-\d$/), BackupId: backupId, TagList: tagList.optional() }),
  modifyBackup: z.object({ BackupId: backupId, NeverExpires: z.boolean() }),
  modifyCluster: z.object({ ClusterId: clusterId, HsmType: hsmType.optional(), BackupRetentionPolicy: retention.optional() }),
  tagResource: z.object({ ResourceId: z.string().min(1), TagList: tagList }),
  untagResource: z.object({ ResourceId: z.string().min(1), TagKeyList: z.array(z.string().min(1).max(128)).min(1).max(50) }),
  listTags: z.object({ ResourceId: z.string().min(1), NextToken: nextToken, MaxResults: z.number().int().min(1).max(100).optional() }),
};

/**
 * The CloudHSMv2 control plane: clusters, HSMs, backups and tags per region, with the
 * lifecycle AWS documents (CREATE_IN_PROGRESS -> UNINITIALIZED ..., backups on HSM changes
 * and daily, retention, 7-day restore window, hsm1 -> hsm2m migration with a 24 h rollback
 * window). Work "in progress" completes when the emulator's clock passes its due time, so
 * tests advance the clock instead of waiting.
 */
export class CloudHsmV2Emulator {
  constructor(
    private readonly state: CloudHsmV2State,
    private readonly clock: Clock,
    private readonly account: string,
    private readonly timings: CloudHsmTimings,
    private readonly limits: { readonly hsmsPerRegion: number } = { hsmsPerRegion: 6 },
    /** Mirrors users and keys of restored or deleted clusters into tokens (cloudhsm-local's materialiser). */
    private readonly listener: HsmChangeListener = { apply: () => undefined },
  ) {}

  createCluster(region: string, raw: unknown) {
    const input = parseInput(schemas.createCluster, raw);
    const type = this.knownType(input.HsmType);
    const r = this.region(region);
    let source: BackupRecord | undefined;
    if (input.SourceBackupId !== undefined) {
      const id = input.SourceBackupId.split('/').pop() ?? '';
      source = r.backups.find((b) => b.backupId === id && b.state === 'READY');
      if (!source) throw notFound(`Backup ${input.SourceBackupId} not found or not READY`);
      const mode = input.Mode ?? source.mode;
      if (source.mode === 'FIPS' && mode === 'NON_FIPS') throw invalid('A NON_FIPS cluster cannot be created from a backup of a FIPS cluster');
      if (source.mode === 'NON_FIPS' && mode === 'FIPS') throw invalid('A FIPS cluster cannot be created from a backup of a NON_FIPS cluster');
    }
    const now = this.now();
    const azs = 'abcdefghij';
    const subnetMapping = Object.fromEntries(input.SubnetIds.map((subnet, i) => [`${region}${azs[i]}`, subnet]));
    const newClusterId = newId('cluster-');
    const cluster: ClusterRecord = {
      clusterId: newClusterId,
      hsmType: type,
      mode: input.Mode ?? source?.mode ?? 'FIPS',
      networkType: input.NetworkType ?? 'IPV4',
      state: 'CREATE_IN_PROGRESS',
      subnetMapping,
      vpcId: `vpc-${digest([...input.SubnetIds].sort().join(','), 17)}`,
      securityGroup: `sg-${randomBytes(9).toString('hex').slice(0, 17)}`,
      retentionDays: input.BackupRetentionPolicy ? this.retentionDays(input.BackupRetentionPolicy.Value) : 90,
      createdMs: now,
      ...(source ? { sourceBackupId: source.backupId } : {}),
      tags: input.TagList ?? [],
      hsms: [],
      dueMs: now + this.timings.clusterCreateMs,
      // A restored cluster holds what its backup held; a fresh one only the unactivated admin.
      hsm: source?.hsm ? copyHsmData(source.hsm) : newClusterHsmData(newClusterId),
    };
    // A restored cluster's crypto users get their tokens, with the backup's keys, before it is recorded.
    if (source && cluster.hsm) {
      try {
        mirrorCluster(cluster.hsm, cluster.clusterId, this.listener);
      } catch {
        throw new LocalAwsException(E.CloudHsmInternalFailure, 'The cluster could not be restored from the backup', 500);
      }
    }
    r.clusters.push(cluster);
    this.tick(region);
    return { Cluster: this.clusterView(cluster) };
  }

  describeClusters(region: string, raw: unknown) {
    const input = parseInput(schemas.describeClusters, raw);
    this.tick(region);
    const filters = input.Filters ?? {};
    const matches = this.region(region).clusters.filter(
      (c) =>
        (!filters['clusterIds'] || filters['clusterIds'].includes(c.clusterId)) &&
        (!filters['vpcIds'] || filters['vpcIds'].includes(c.vpcId)) &&
        (!filters['states'] || filters['states'].includes(c.state)),
    );
    const page = paginate(matches, input.NextToken, input.MaxResults ?? 25);
    return { Clusters: page.items.map((c) => this.clusterView(c)), ...(page.next ? { NextToken: page.next } : {}) };
  }

  async createHsm(region: string, raw: unknown) {
    const input = parseInput(schemas.createHsm, raw);
    this.tick(region);
    const cluster = this.cluster(region, input.ClusterId);
    if (!['UNINITIALIZED', 'INITIALIZED', 'ACTIVE', 'DEGRADED'].includes(cluster.state)) {
      throw invalid(`Cannot create an HSM while the cluster is ${cluster.state}`);
    }
    const subnetId = cluster.subnetMapping[input.AvailabilityZone];
    if (!subnetId) throw invalid(`The cluster has no subnet in Availability Zone ${input.AvailabilityZone}`);
    if (cluster.hsms.length >= MAX_HSMS_PER_CLUSTER) throw invalid(`A cluster can have at most ${MAX_HSMS_PER_CLUSTER} HSMs`);
    const inRegion = this.region(region).clusters.reduce((n, c) => n + c.hsms.length, 0);
    if (inRegion >= this.limits.hsmsPerRegion) throw invalid(`The HSM quota of ${this.limits.hsmsPerRegion} per account and region is reached`);
    const hsm: HsmRecord = {
      hsmId: newId('hsm-'),
      availabilityZone: input.AvailabilityZone,
      subnetId,
      eniId: `eni-${randomBytes(9).toString('hex').slice(0, 17)}`,
      eniIp: input.IpAddress ?? `10.0.${Object.keys(cluster.subnetMapping).indexOf(input.AvailabilityZone)}.${10 + cluster.hsms.length}`,
      hsmType: cluster.hsmType,
      state: 'CREATE_IN_PROGRESS',
      dueMs: this.now() + this.timings.hsmCreateMs,
    };
    // The first HSM of an uninitialized cluster makes the cluster's key pair and CSR.
    if (cluster.state === 'UNINITIALIZED' && !cluster.csrPem) cluster.csrPem = await createClusterCsr(cluster.clusterId);
    cluster.hsms.push(hsm);
    this.tick(region);
    return { Hsm: this.hsmView(cluster, hsm) };
  }

  deleteHsm(region: string, raw: unknown) {
    const input = parseInput(schemas.deleteHsm, raw);
    this.tick(region);
    const cluster = this.cluster(region, input.ClusterId);
    if ([input.HsmId, input.EniId, input.EniIp].filter((v) => v !== undefined).length !== 1) {
      throw invalid('Specify exactly one of HsmId, EniId and EniIp');
    }
    this.assertNotMigrating(cluster);
    const hsm = cluster.hsms.find((h) => h.hsmId === input.HsmId || h.eniId === input.EniId || h.eniIp === input.EniIp);
    if (!hsm) throw notFound('HSM not found in the cluster');
    hsm.state = 'DELETE_IN_PROGRESS';
    hsm.dueMs = this.now() + this.timings.hsmDeleteMs;
    this.tick(region);
    return { HsmId: hsm.hsmId };
  }

  /**
   * Checks, with real X.509 verification, that TrustAnchor is self-signed, that SignedCert
   * was issued and signed by it, and that SignedCert certifies the key of the cluster's CSR.
   */
  initializeCluster(region: string, raw: unknown) {
    const input = parseInput(schemas.initializeCluster, raw);
    this.tick(region);
    const cluster = this.cluster(region, input.ClusterId);
    if (cluster.state !== 'UNINITIALIZED') throw invalid(`Cluster ${cluster.clusterId} is ${cluster.state}, not UNINITIALIZED`);
    if (!cluster.csrPem || !cluster.hsms.some((h) => h.state === 'ACTIVE')) throw invalid('The cluster has no CSR yet: create an HSM first');
    const anchor = parseCertificate(input.TrustAnchor, 'TrustAnchor');
    const signed = parseCertificate(input.SignedCert, 'SignedCert');
    if (!anchor.checkIssued(anchor) || !anchor.verify(anchor.publicKey)) throw invalid('TrustAnchor is not a self-signed certificate');
    if (!signed.checkIssued(anchor) || !signed.verify(anchor.publicKey)) throw invalid('SignedCert is not signed by the TrustAnchor');
    const certifiedKey = signed.publicKey.export({ type: 'spki', format: 'der' });
    if (!certifiedKey.equals(publicKeyOfCsr(cluster.csrPem))) throw invalid('SignedCert does not certify the key of the cluster CSR');
    cluster.state = 'INITIALIZE_IN_PROGRESS';
    cluster.dueMs = this.now() + this.timings.clusterInitializeMs;
    cluster.clusterCertificatePem = input.SignedCert;
    cluster.trustAnchorPem = input.TrustAnchor;
    this.tick(region);
    return { State: 'INITIALIZE_IN_PROGRESS', StateMessage: 'Cluster is initializing. State will change to INITIALIZED upon completion.' };
  }

  deleteCluster(region: string, raw: unknown) {
    const input = parseInput(schemas.clusterOnly, raw);
    this.tick(region);
    const cluster = this.cluster(region, input.ClusterId);
    if (cluster.hsms.length > 0) throw invalid('All HSMs must be deleted before the cluster can be deleted');
    if (cluster.state === 'DELETE_IN_PROGRESS' || cluster.state === 'DELETED') throw invalid(`The cluster is already ${cluster.state}`);
    if (cluster.hsm) unmirrorCluster(cluster.hsm, cluster.clusterId, this.listener);
    cluster.state = 'DELETE_IN_PROGRESS';
    cluster.dueMs = this.now() + this.timings.clusterDeleteMs;
    const view = this.clusterView(cluster);
    this.tick(region);
    return { Cluster: view };
  }

  modifyCluster(region: string, raw: unknown) {
    const input = parseInput(schemas.modifyCluster, raw);
    this.tick(region);
    const cluster = this.cluster(region, input.ClusterId);
    if (input.HsmType === undefined && input.BackupRetentionPolicy === undefined) {
      throw invalid('Specify HsmType or BackupRetentionPolicy');
    }
    if (input.BackupRetentionPolicy) cluster.retentionDays = this.retentionDays(input.BackupRetentionPolicy.Value);
    if (input.HsmType !== undefined) this.changeHsmType(cluster, this.knownType(input.HsmType));
    this.tick(region);
    return { Cluster: this.clusterView(cluster) };
  }

  describeBackups(region: string, raw: unknown) {
    const input = parseInput(schemas.describeBackups, raw);
    this.tick(region);
    const f = input.Filters ?? {};
    const matches = this.region(region)
      .backups.filter(
        (b) =>
          (!f['backupIds'] || f['backupIds'].includes(b.backupId)) &&
          (!f['sourceBackupIds'] || (b.sourceBackup !== undefined && f['sourceBackupIds'].includes(b.sourceBackup))) &&
          (!f['clusterIds'] || f['clusterIds'].includes(b.clusterId)) &&
          (f['states'] ? f['states'].includes(b.state) : b.state !== 'DELETED') &&
          (!f['neverExpires'] || f['neverExpires'].includes(String(b.neverExpires))),
      )
      .sort((a, b) => (input.SortAscending ? a.createdMs - b.createdMs : b.createdMs - a.createdMs));
    const page = paginate(matches, input.NextToken, input.MaxResults ?? 50);
    return { Backups: page.items.map((b) => this.backupView(b)), ...(page.next ? { NextToken: page.next } : {}) };
  }

  deleteBackup(region: string, raw: unknown) {
    const input = parseInput(schemas.backupOnly, raw);
    this.tick(region);
    const backup = this.backup(region, input.BackupId);
    if (backup.state !== 'READY') throw invalid(`Backup ${backup.backupId} is ${backup.state} and cannot be deleted`);
    backup.state = 'PENDING_DELETION';
    backup.deleteMs = this.now();
    return { Backup: this.backupView(backup) };
  }

  restoreBackup(region: string, raw: unknown) {
    const input = parseInput(schemas.backupOnly, raw);
    this.tick(region);
    const backup = this.backup(region, input.BackupId);
    if (backup.state !== 'PENDING_DELETION') throw invalid(`Backup ${backup.backupId} is ${backup.state}; only a backup pending deletion can be restored`);
    backup.state = 'READY';
    delete backup.deleteMs;
    return { Backup: this.backupView(backup) };
  }

  modifyBackupAttributes(region: string, raw: unknown) {
    const input = parseInput(schemas.modifyBackup, raw);
    this.tick(region);
    const backup = this.backup(region, input.BackupId);
    backup.neverExpires = input.NeverExpires;
    return { Backup: this.backupView(backup) };
  }

  copyBackupToRegion(region: string, raw: unknown) {
    const input = parseInput(schemas.copyBackup, raw);
    this.tick(region);
    const source = this.backup(region, input.BackupId);
    if (source.state !== 'READY') throw invalid(`Backup ${source.backupId} is ${source.state}; only READY backups can be copied`);
    if (input.DestinationRegion === region) throw invalid('The destination region must differ from the source region');
    const now = this.now();
    const copyId = newId('backup-');
    this.region(input.DestinationRegion).backups.push({
      backupId: copyId,
      backupArn: `arn:aws:cloudhsm:${input.DestinationRegion}:${this.account}:backup/${copyId}`,
      state: 'CREATE_IN_PROGRESS',
      clusterId: source.clusterId,
      createdMs: now,
      copiedMs: now,
      hsmType: source.hsmType,
      mode: source.mode,
      neverExpires: false,
      tags: input.TagList ?? source.tags,
      sourceRegion: region,
      sourceBackup: source.backupId,
      sourceCluster: source.clusterId,
      dueMs: now + this.timings.backupMs,
      isCopy: true,
      ...(source.hsm ? { hsm: copyHsmData(source.hsm) } : {}),
    });
    this.tick(input.DestinationRegion);
    return {
      DestinationBackup: {
        CreateTimestamp: epochSeconds(new Date(now)),
        SourceRegion: region,
        SourceBackup: source.backupId,
        SourceCluster: source.clusterId,
      },
    };
  }

  tagResource(region: string, raw: unknown) {
    const input = parseInput(schemas.tagResource, raw);
    const tags = this.taggable(region, input.ResourceId);
    for (const tag of input.TagList) {
      const existing = tags.find((t) => t.Key === tag.Key);
      if (existing) existing.Value = tag.Value;
      else tags.push({ ...tag });
    }
    if (tags.length > 50) throw new LocalAwsException(E.CloudHsmResourceLimitExceeded, 'A resource can have at most 50 tags');
    return {};
  }

  untagResource(region: string, raw: unknown) {
    const input = parseInput(schemas.untagResource, raw);
    const tags = this.taggable(region, input.ResourceId);
    const kept = tags.filter((t) => !input.TagKeyList.includes(t.Key));
    tags.splice(0, tags.length, ...kept);
    return {};
  }

  listTags(region: string, raw: unknown) {
    const input = parseInput(schemas.listTags, raw);
    const page = paginate(this.taggable(region, input.ResourceId), input.NextToken, input.MaxResults ?? 100);
    return { TagList: page.items.map((t) => ({ ...t })), ...(page.next ? { NextToken: page.next } : {}) };
  }

  /**
   * `cloudhsm-cli cluster activate`: an INITIALIZED cluster becomes ACTIVE (and is backed
   * up). Exposed to the CLI and the admin endpoint, not to the AWS API, as in AWS.
   */
  activate(region: string, clusterIdValue: string, adminPassword?: string): void {
    this.tick(region);
    const cluster = this.cluster(region, clusterIdValue);
    if (cluster.state !== 'INITIALIZED') throw invalid(`Cluster ${clusterIdValue} is ${cluster.state}, not INITIALIZED`);
    if (!cluster.hsms.some((h) => h.state === 'ACTIVE')) throw invalid('Activation needs an ACTIVE HSM');
    const admin = cluster.hsm?.users.find((u) => u.role === 'unactivated-admin');
    if (admin && adminPassword !== undefined) Object.assign(admin, hashPassword(adminPassword), { role: 'admin' });
    cluster.state = 'ACTIVE';
    this.takeBackup(region, cluster, this.now());
  }

  /** Finds a live cluster in any region (cloudhsm-cli addresses clusters by id only). */
  findCluster(clusterIdValue: string): { region: string; cluster: ClusterRecord } | undefined {
    for (const region of Object.keys(this.state.regions)) {
      this.tick(region);
      const cluster = this.region(region).clusters.find((c) => c.clusterId === clusterIdValue && c.state !== 'DELETED');
      if (cluster) return { region, cluster };
    }
    return undefined;
  }

  /** Every live cluster of every region. */
  allClusters(): { region: string; cluster: ClusterRecord }[] {
    return Object.keys(this.state.regions).flatMap((region) => {
      this.tick(region);
      return this.region(region).clusters.filter((c) => c.state !== 'DELETED' && c.state !== 'DELETE_IN_PROGRESS').map((cluster) => ({ region, cluster }));
    });
  }

  /**
   * Marks an UNINITIALIZED cluster INITIALIZED without the certificate ceremony: for seeding
   * local demo estates only (InitializeCluster over the API checks real certificates).
   */
  markInitialized(region: string, clusterIdValue: string): void {
    this.tick(region);
    const cluster = this.cluster(region, clusterIdValue);
    if (cluster.state !== 'UNINITIALIZED') throw invalid(`Cluster ${clusterIdValue} is ${cluster.state}, not UNINITIALIZED`);
    cluster.state = 'INITIALIZED';
  }

  /** Completes all of a cluster's work in progress now, whatever the timings (seeding only). */
  completeNow(region: string, clusterIdValue: string): void {
    const cluster = this.cluster(region, clusterIdValue);
    const now = this.now();
    if (cluster.dueMs !== undefined) cluster.dueMs = now;
    for (const hsm of cluster.hsms) if (hsm.dueMs !== undefined) hsm.dueMs = now;
    this.tick(region);
  }

  /** True while the cluster only accepts reads (hsm1 -> hsm2m migration or its rollback). */
  isLimitedWrite(region: string, clusterIdValue: string): boolean {
    this.tick(region);
    const state = this.cluster(region, clusterIdValue).state;
    return state === 'MODIFY_IN_PROGRESS' || state === 'ROLLBACK_IN_PROGRESS';
  }

  /** Marks an HSM degraded (admin fault); the cluster reports DEGRADED while one is. */
  degradeHsm(region: string, clusterIdValue: string, hsmId: string): void {
    this.tick(region);
    const hsm = this.cluster(region, clusterIdValue).hsms.find((h) => h.hsmId === hsmId);
    if (!hsm) throw notFound(`HSM ${hsmId} not found`);
    hsm.state = 'DEGRADED';
    hsm.stateMessage = 'HSM degraded (injected fault)';
  }

  /** Applies every transition whose time has come, in time order. */
  tick(region: string): void {
    const now = this.now();
    const r = this.region(region);
    for (const cluster of r.clusters) this.advanceCluster(region, cluster, now);
    for (const backup of r.backups) {
      if (backup.state === 'CREATE_IN_PROGRESS' && (backup.dueMs ?? 0) <= now) {
        backup.state = 'READY';
        delete backup.dueMs;
      }
      if (backup.state === 'PENDING_DELETION' && (backup.deleteMs ?? 0) + RESTORE_WINDOW_MS <= now) backup.state = 'DELETED';
    }
    this.expireBackups(r, now);
  }

  private advanceCluster(region: string, cluster: ClusterRecord, now: number): void {
    if (cluster.state === 'CREATE_IN_PROGRESS' && (cluster.dueMs ?? 0) <= now) {
      cluster.state = cluster.sourceBackupId ? 'INITIALIZED' : 'UNINITIALIZED';
      delete cluster.dueMs;
    }
    if (cluster.state === 'INITIALIZE_IN_PROGRESS' && (cluster.dueMs ?? 0) <= now) {
      cluster.state = 'INITIALIZED';
      delete cluster.dueMs;
    }
    if (cluster.state === 'DELETE_IN_PROGRESS' && (cluster.dueMs ?? 0) <= now) {
      cluster.state = 'DELETED';
      delete cluster.dueMs;
    }
    // When the last HSM change completed (not when this tick noticed it): backups date from then.
    let changedAt: number | undefined;
    for (const hsm of cluster.hsms) {
      if (hsm.state === 'CREATE_IN_PROGRESS' && (hsm.dueMs ?? 0) <= now) {
        changedAt = Math.max(changedAt ?? 0, hsm.dueMs ?? now);
        hsm.state = 'ACTIVE';
        delete hsm.dueMs;
      }
    }
    const leaving = cluster.hsms.filter((h) => h.state === 'DELETE_IN_PROGRESS' && (h.dueMs ?? 0) <= now);
    if (leaving.length > 0) {
      changedAt = Math.max(changedAt ?? 0, ...leaving.map((h) => h.dueMs ?? now));
      cluster.hsms = cluster.hsms.filter((h) => !leaving.includes(h));
    }
    // A cluster restored from a backup is initialized; it becomes ACTIVE with its first HSM.
    if (cluster.state === 'INITIALIZED' && cluster.sourceBackupId && cluster.hsms.some((h) => h.state === 'ACTIVE')) cluster.state = 'ACTIVE';
    if (cluster.state === 'ACTIVE' && cluster.hsms.some((h) => h.state === 'DEGRADED')) cluster.state = 'DEGRADED';
    if (cluster.state === 'DEGRADED' && !cluster.hsms.some((h) => h.state === 'DEGRADED')) cluster.state = 'ACTIVE';
    if (cluster.migration) this.advanceMigration(cluster, now);
    // Backups: when an active cluster gains or loses an HSM, and at least every 24 hours.
    if (cluster.state === 'ACTIVE' || cluster.state === 'DEGRADED') {
      if (changedAt !== undefined) this.takeBackup(region, cluster, changedAt);
      while (cluster.lastBackupMs !== undefined && cluster.lastBackupMs + DAY_MS <= now) {
        this.takeBackup(region, cluster, cluster.lastBackupMs + DAY_MS);
      }
    }
  }

  private changeHsmType(cluster: ClusterRecord, target: HsmType): void {
    const now = this.now();
    if (cluster.migration && cluster.state === 'MODIFY_IN_PROGRESS') throw invalid('A migration is already in progress');
    if (target === cluster.hsmType) {
      throw invalid(`The cluster already has HSM type ${target}`);
    }
    const rollback = cluster.migration;
    if (rollback && target === rollback.fromType && now <= rollback.rollbackUntilMs) {
      cluster.state = 'ROLLBACK_IN_PROGRESS';
      cluster.migration = { fromType: cluster.hsmType, toType: target, startedMs: now, rollbackUntilMs: rollback.rollbackUntilMs, hsmsDone: 0 };
      return;
    }
    if (cluster.hsmType !== 'hsm1.medium' || target !== 'hsm2m.medium') {
      throw invalid(rollback ? 'The 24-hour rollback window of the last migration has passed' : `Migration from ${cluster.hsmType} to ${target} is not supported`);
    }
    if (cluster.state !== 'ACTIVE') throw invalid(`The cluster must be ACTIVE to migrate, it is ${cluster.state}`);
    if (cluster.hsms.length > 27) throw invalid('A cluster with more than 27 HSMs cannot be migrated');
    cluster.state = 'MODIFY_IN_PROGRESS';
    cluster.migration = { fromType: cluster.hsmType, toType: target, startedMs: now, rollbackUntilMs: now + DAY_MS, hsmsDone: 0 };
  }

  /** Replaces HSMs one at a time (a full backup first), then completes; the rollback window stays open 24 h. */
  private advanceMigration(cluster: ClusterRecord, now: number): void {
    const m = cluster.migration;
    if (!m || (cluster.state !== 'MODIFY_IN_PROGRESS' && cluster.state !== 'ROLLBACK_IN_PROGRESS')) return;
    const steps = Math.max(1, cluster.hsms.length);
    const done = Math.min(steps, Math.floor((now - m.startedMs) / Math.max(1, this.timings.migrationStepMs)) + (this.timings.migrationStepMs === 0 ? steps : 0));
    for (let i = m.hsmsDone; i < done && i < cluster.hsms.length; i += 1) cluster.hsms[i]!.hsmType = m.toType;
    m.hsmsDone = done;
    if (done >= steps) {
      cluster.hsmType = m.toType;
      cluster.state = 'ACTIVE';
      if (m.toType === 'hsm1.medium') delete cluster.migration; // rolled back: nothing left to roll back
    }
  }

  private takeBackup(region: string, cluster: ClusterRecord, at: number): void {
    const id = newId('backup-');
    this.region(region).backups.push({
      backupId: id,
      backupArn: `arn:aws:cloudhsm:${region}:${this.account}:backup/${id}`,
      state: 'CREATE_IN_PROGRESS',
      clusterId: cluster.clusterId,
      createdMs: at,
      hsmType: cluster.hsmType,
      mode: cluster.mode,
      neverExpires: false,
      tags: [],
      dueMs: at + this.timings.backupMs,
      ...(cluster.hsm ? { hsm: copyHsmData(cluster.hsm) } : {}),
    });
    cluster.lastBackupMs = at;
    const backups = this.region(region).backups;
    const backup = backups[backups.length - 1];
    if (backup && at + this.timings.backupMs <= this.now()) {
      backup.state = 'READY';
      delete backup.dueMs;
    }
  }

  /** Retention: READY backups older than the cluster's policy go, except the cluster's last one, NeverExpires ones and copies. */
  private expireBackups(r: CloudHsmRegionState, now: number): void {
    for (const cluster of r.clusters) {
      const own = r.backups.filter((b) => b.clusterId === cluster.clusterId && !b.isCopy && b.state === 'READY');
      const newest = own.reduce<BackupRecord | undefined>((a, b) => (!a || b.createdMs > a.createdMs ? b : a), undefined);
      for (const backup of own) {
        if (backup !== newest && !backup.neverExpires && backup.createdMs + cluster.retentionDays * DAY_MS <= now) backup.state = 'DELETED';
      }
    }
  }

  private assertNotMigrating(cluster: ClusterRecord): void {
    if (cluster.state === 'MODIFY_IN_PROGRESS' || cluster.state === 'ROLLBACK_IN_PROGRESS') {
      throw invalid(`HSMs cannot be added or removed while the cluster is ${cluster.state}`);
    }
  }

  private knownType(value: string): HsmType {
    if (value !== 'hsm1.medium' && value !== 'hsm2m.medium') throw invalid(`HSM type ${value} is not supported; use hsm1.medium or hsm2m.medium`);
    return value;
  }

  private retentionDays(value: string): number {
    const days = Number(value);
    if (days < 7 || days > 379) throw invalid('BackupRetentionPolicy Value must be between 7 and 379 days');
    return days;
  }

  private region(region: string): CloudHsmRegionState {
    return (this.state.regions[region] ??= { clusters: [], backups: [] });
  }

  private cluster(region: string, id: string): ClusterRecord {
    const cluster = this.region(region).clusters.find((c) => c.clusterId === id && c.state !== 'DELETED');
    if (!cluster) throw notFound(`Cluster ${id} not found`);
    return cluster;
  }

  private backup(region: string, id: string): BackupRecord {
    const backup = this.region(region).backups.find((b) => b.backupId === id && b.state !== 'DELETED');
    if (!backup) throw notFound(`Backup ${id} not found`);
    return backup;
  }

  private taggable(region: string, resourceId: string): Tag[] {
    const id = resourceId.split('/').pop() ?? resourceId;
    const r = this.region(region);
    const found = r.clusters.find((c) => c.clusterId === id && c.state !== 'DELETED') ?? r.backups.find((b) => b.backupId === id && b.state !== 'DELETED');
    if (!found) throw notFound(`Resource ${resourceId} not found`);
    return found.tags;
  }

  private now(): number {
    return this.clock.now().getTime();
  }

  private clusterView(c: ClusterRecord) {
    return {
      BackupPolicy: 'DEFAULT',
      BackupRetentionPolicy: { Type: 'DAYS', Value: String(c.retentionDays) },
      Certificates: {
        ...(c.state === 'UNINITIALIZED' && c.csrPem && c.hsms.some((h) => h.state === 'ACTIVE') ? { ClusterCsr: c.csrPem } : {}),
        ...(c.clusterCertificatePem ? { ClusterCertificate: c.clusterCertificatePem } : {}),
      },
      ClusterId: c.clusterId,
      CreateTimestamp: epochSeconds(new Date(c.createdMs)),
      Hsms: c.hsms.map((h) => this.hsmView(c, h)),
      HsmType: c.hsmType,
      ...(c.migration ? { HsmTypeRollbackExpiration: epochSeconds(new Date(c.migration.rollbackUntilMs)) } : {}),
      Mode: c.mode,
      NetworkType: c.networkType,
      SecurityGroup: c.securityGroup,
      ...(c.sourceBackupId ? { SourceBackupId: c.sourceBackupId } : {}),
      State: c.state,
      ...(c.stateMessage ? { StateMessage: c.stateMessage } : {}),
      SubnetMapping: { ...c.subnetMapping },
      VpcId: c.vpcId,
      ...(c.tags.length > 0 ? { TagList: c.tags.map((t) => ({ ...t })) } : {}),
    };
  }

  private hsmView(c: ClusterRecord, h: HsmRecord) {
    return {
      AvailabilityZone: h.availabilityZone,
      ClusterId: c.clusterId,
      SubnetId: h.subnetId,
      EniId: h.eniId,
      EniIp: h.eniIp,
      HsmId: h.hsmId,
      HsmType: h.hsmType,
      State: h.state,
      ...(h.stateMessage ? { StateMessage: h.stateMessage } : {}),
    };
  }

  private backupView(b: BackupRecord) {
    return {
      BackupId: b.backupId,
      BackupArn: b.backupArn,
      BackupState: b.state,
      ClusterId: b.clusterId,
      CreateTimestamp: epochSeconds(new Date(b.createdMs)),
      ...(b.copiedMs !== undefined ? { CopyTimestamp: epochSeconds(new Date(b.copiedMs)) } : {}),
      NeverExpires: b.neverExpires,
      ...(b.sourceRegion ? { SourceRegion: b.sourceRegion, SourceBackup: b.sourceBackup, SourceCluster: b.sourceCluster } : {}),
      ...(b.deleteMs !== undefined ? { DeleteTimestamp: epochSeconds(new Date(b.deleteMs)) } : {}),
      ...(b.tags.length > 0 ? { TagList: b.tags.map((t) => ({ ...t })) } : {}),
      HsmType: b.hsmType,
      Mode: b.mode,
    };
  }
}

function parseCertificate(pem: string, field: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch {
    throw invalid(`${field} is not a valid PEM-encoded X.509 certificate`);
  }
}

/** Ids like AWS's: a prefix and 11 characters of [2-7a-z]. */
function newId(prefix: string): string {
  return prefix + Array.from(randomBytes(11), (b) => ID_ALPHABET[b % ID_ALPHABET.length]).join('');
}

function digest(text: string, length: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

/** Opaque page tokens: the offset of the next item, base64. */
function paginate<T>(items: readonly T[], token: string | undefined, max: number): { items: T[]; next?: string } {
  let start = 0;
  if (token !== undefined) {
    start = Number(Buffer.from(token, 'base64').toString('utf8'));
    if (!Number.isInteger(start) || start < 0) throw invalid('The NextToken is not valid');
  }
  const end = start + max;
  return { items: items.slice(start, end), ...(end < items.length ? { next: Buffer.from(String(end)).toString('base64') } : {}) };
}
