export { LocalAws, type LocalAwsOptions } from './lib/local-aws';
export { AwsJsonDispatcher, MAX_REQUEST_BYTES, regionOf, type AwsJsonRequest, type AwsJsonResponse, type AwsOperation, type AwsServiceTable } from './lib/protocol/aws-json.dispatcher';
export { AdjustableClock, epochSeconds, type Clock } from './lib/protocol/clock';
export { LocalAwsErrorType, LocalAwsException } from './lib/protocol/local-aws.exception';
export { AWSCURRENT, AWSPENDING, AWSPREVIOUS, SecretsManagerEmulator, type SecretsManagerState } from './lib/secrets-manager/secrets-manager.emulator';
export { CloudHsmV2Emulator } from './lib/cloudhsm-v2/cloudhsm-v2.emulator';
export { INSTANT_TIMINGS, REALISTIC_TIMINGS, type CloudHsmTimings, type CloudHsmV2State } from './lib/cloudhsm-v2/cloudhsm-v2.model';
export { KmsEmulator, type KmsState } from './lib/kms/kms.emulator';
export { FaultInjector, type FaultRule } from './lib/protocol/fault-injector';
