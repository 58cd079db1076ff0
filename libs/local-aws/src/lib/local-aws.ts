import { join } from 'node:path';
import { AwsJsonDispatcher } from './protocol/aws-json.dispatcher';
import { AdjustableClock } from './protocol/clock';
import { StateFile } from './protocol/state-file';
import { SecretsManagerEmulator, emptySecretsManagerState, type SecretsManagerState } from './secrets-manager/secrets-manager.emulator';

interface LocalAwsState {
  version: 1;
  secretsManager: SecretsManagerState;
}

export interface LocalAwsOptions {
  /** Where state is persisted (one JSON file, written atomically after every successful call). */
  readonly dataDir: string;
  /** The account id in ARNs. */
  readonly account: string;
  readonly clock?: AdjustableClock;
}

/**
 * The emulated AWS services of cloudhsm-local behind one AWS JSON 1.1 endpoint. State
 * survives restarts: it is loaded from `dataDir` at construction and saved after each call.
 */
export class LocalAws {
  readonly clock: AdjustableClock;
  readonly secretsManager: SecretsManagerEmulator;
  readonly dispatcher: AwsJsonDispatcher;
  private readonly file: StateFile<LocalAwsState>;
  private readonly state: LocalAwsState;

  constructor(options: LocalAwsOptions) {
    this.clock = options.clock ?? new AdjustableClock();
    this.file = new StateFile(join(options.dataDir, 'state.json'), () => ({ version: 1, secretsManager: emptySecretsManagerState() }));
    this.state = this.file.load();
    this.secretsManager = new SecretsManagerEmulator(this.state.secretsManager, this.clock, options.account);
    const sm = this.secretsManager;
    this.dispatcher = new AwsJsonDispatcher(
      {
        secretsmanager: {
          CreateSecret: (region, input) => sm.createSecret(region, input),
          GetSecretValue: (region, input) => sm.getSecretValue(region, input),
          PutSecretValue: (region, input) => sm.putSecretValue(region, input),
          UpdateSecretVersionStage: (region, input) => sm.updateSecretVersionStage(region, input),
          DescribeSecret: (region, input) => sm.describeSecret(region, input),
        },
      },
      () => this.file.save(this.state),
    );
  }
}
