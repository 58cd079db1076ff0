export { LocalAws, type LocalAwsOptions } from './lib/local-aws';
export { AwsJsonDispatcher, MAX_REQUEST_BYTES, regionOf, type AwsJsonRequest, type AwsJsonResponse, type AwsOperation, type AwsServiceTable } from './lib/protocol/aws-json.dispatcher';
export { AdjustableClock, epochSeconds, type Clock } from './lib/protocol/clock';
export { LocalAwsErrorType, LocalAwsException } from './lib/protocol/local-aws.exception';
export { AWSCURRENT, AWSPENDING, AWSPREVIOUS, SecretsManagerEmulator, type SecretsManagerState } from './lib/secrets-manager/secrets-manager.emulator';
