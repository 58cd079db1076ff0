import { join } from 'node:path';
import { CloudHsmV2Emulator } from './cloudhsm-v2/cloudhsm-v2.emulator';
import { INSTANT_TIMINGS, emptyCloudHsmV2State, type CloudHsmTimings, type CloudHsmV2State } from './cloudhsm-v2/cloudhsm-v2.model';
import { CloudHsmCli } from './cluster-hsm/cloudhsm-cli';
import type { HsmChangeListener, LoginProbe } from './cluster-hsm/hsm-change';
import { KmsEmulator, emptyKmsState, type KmsState } from './kms/kms.emulator';
import { AwsJsonDispatcher, type AwsOperation } from './protocol/aws-json.dispatcher';
import { FaultInjector } from './protocol/fault-injector';
import { AdjustableClock } from './protocol/clock';
import { StateFile } from './protocol/state-file';
import { SecretsManagerEmulator, emptySecretsManagerState, type SecretsManagerState } from './secrets-manager/secrets-manager.emulator';

interface LocalAwsState {
  version: 1;
  /** How far the emulated clock has been advanced: kept so a restart does not turn time back. */
  clockOffsetMs?: number;
  secretsManager: SecretsManagerState;
  cloudHsm: CloudHsmV2State;
  kms?: KmsState;
}

export interface LocalAwsOptions {
  /** Where state is persisted (one JSON file, written atomically after every successful call). */
  readonly dataDir: string;
  /** The account id in ARNs. */
  readonly account: string;
  readonly clock?: AdjustableClock;
  /** How long emulated CloudHSM work takes; instant by default. */
  readonly timings?: CloudHsmTimings;
  /** HSMs per account and region (AWS's default quota is 6). */
  readonly hsmsPerRegion?: number;
  /** Mirrors users and keys into PKCS#11 tokens (the SoftHSM2 materialiser); none by default. */
  readonly hsmListener?: HsmChangeListener;
  /** Who is logged in (PKCS#11 login markers); nobody by default. */
  readonly loginProbe?: LoginProbe;
  /** Told of every error an API call failed with that is not an AWS error (a bug): callers see only InternalFailure. */
  readonly onUnexpectedError?: (err: unknown, target: string) => void;
}

/**
 * The emulated AWS services of cloudhsm-local behind one AWS JSON 1.1 endpoint. State
 * survives restarts: it is loaded from `dataDir` at construction and saved after each call.
 */
export class LocalAws {
  readonly clock: AdjustableClock;
  readonly secretsManager: SecretsManagerEmulator;
  readonly cloudHsm: CloudHsmV2Emulator;
  readonly kms: KmsEmulator;
  /** `cloudhsm-cli` commands, executed here against the same state. */
  readonly cli: CloudHsmCli;
  /** Injected API faults (admin endpoint); none unless set. */
  readonly faults = new FaultInjector();
  readonly dispatcher: AwsJsonDispatcher;
  private readonly file: StateFile<LocalAwsState>;
  private readonly state: LocalAwsState;

  constructor(options: LocalAwsOptions) {
    this.clock = options.clock ?? new AdjustableClock();
    this.file = new StateFile(join(options.dataDir, 'state.json'), () => ({
      version: 1,
      secretsManager: emptySecretsManagerState(),
      cloudHsm: emptyCloudHsmV2State(),
    }));
    this.state = this.file.load();
    if (this.state.clockOffsetMs && this.clock.offset < this.state.clockOffsetMs) this.clock.advance(this.state.clockOffsetMs - this.clock.offset);
    this.secretsManager = new SecretsManagerEmulator(this.state.secretsManager, this.clock, options.account);
    this.cloudHsm = new CloudHsmV2Emulator(
      this.state.cloudHsm,
      this.clock,
      options.account,
      options.timings ?? INSTANT_TIMINGS,
      { hsmsPerRegion: options.hsmsPerRegion ?? 6 },
      options.hsmListener,
    );
    this.kms = new KmsEmulator((this.state.kms ??= emptyKmsState()), this.clock, options.account);
    const kms = this.kms;
    const trent: Record<string, AwsOperation> = {
      CreateKey: (r, i) => kms.createKey(r, i),
      DescribeKey: (r, i) => kms.describeKey(r, i),
      GetParametersForImport: (r, i) => kms.getParametersForImport(r, i),
      ImportKeyMaterial: (r, i) => kms.importKeyMaterial(r, i),
      Sign: (r, i) => kms.sign(r, i),
      Verify: (r, i) => kms.verify(r, i),
      GetPublicKey: (r, i) => kms.getPublicKey(r, i),
      ScheduleKeyDeletion: (r, i) => kms.scheduleKeyDeletion(r, i),
    };
    const sm = this.secretsManager;
    const hsm = this.cloudHsm;
    this.cli = new CloudHsmCli(hsm, () => this.save(), options.hsmListener, options.loginProbe);
    const baldr: Record<string, AwsOperation> = {
      CreateCluster: (r, i) => hsm.createCluster(r, i),
      DescribeClusters: (r, i) => hsm.describeClusters(r, i),
      CreateHsm: (r, i) => hsm.createHsm(r, i),
      DeleteHsm: (r, i) => hsm.deleteHsm(r, i),
      DeleteCluster: (r, i) => hsm.deleteCluster(r, i),
      InitializeCluster: (r, i) => hsm.initializeCluster(r, i),
      ModifyCluster: (r, i) => hsm.modifyCluster(r, i),
      DescribeBackups: (r, i) => hsm.describeBackups(r, i),
      DeleteBackup: (r, i) => hsm.deleteBackup(r, i),
      RestoreBackup: (r, i) => hsm.restoreBackup(r, i),
      ModifyBackupAttributes: (r, i) => hsm.modifyBackupAttributes(r, i),
      CopyBackupToRegion: (r, i) => hsm.copyBackupToRegion(r, i),
      TagResource: (r, i) => hsm.tagResource(r, i),
      UntagResource: (r, i) => hsm.untagResource(r, i),
      ListTags: (r, i) => hsm.listTags(r, i),
    };
    this.dispatcher = new AwsJsonDispatcher(
      {
        BaldrApiService: baldr,
        TrentService: trent,
        secretsmanager: {
          CreateSecret: (region, input) => sm.createSecret(region, input),
          GetSecretValue: (region, input) => sm.getSecretValue(region, input),
          PutSecretValue: (region, input) => sm.putSecretValue(region, input),
          UpdateSecretVersionStage: (region, input) => sm.updateSecretVersionStage(region, input),
          DescribeSecret: (region, input) => sm.describeSecret(region, input),
        },
      },
      () => this.save(),
      (target, region, input) => this.faults.apply(target, region, input),
      options.onUnexpectedError,
    );
  }

  /** Persists the state (after API calls, and after admin actions that change it). */
  save(): void {
    this.state.clockOffsetMs = this.clock.offset;
    this.file.save(this.state);
  }
}
