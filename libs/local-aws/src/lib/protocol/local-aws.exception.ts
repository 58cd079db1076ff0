/**
 * AWS error shape names (`__type`) the emulated services return, as in the service models
 * (botocore `service-2.json`). The value is exactly what goes on the wire.
 */
export enum LocalAwsErrorType {
  // Secrets Manager
  ResourceNotFound = 'ResourceNotFoundException',
  InvalidParameter = 'InvalidParameterException',
  InvalidRequest = 'InvalidRequestException',
  ResourceExists = 'ResourceExistsException',
  // CloudHSMv2
  CloudHsmInvalidRequest = 'CloudHsmInvalidRequestException',
  CloudHsmResourceNotFound = 'CloudHsmResourceNotFoundException',
  CloudHsmInternalFailure = 'CloudHsmInternalFailureException',
  CloudHsmAccessDenied = 'CloudHsmAccessDeniedException',
  CloudHsmService = 'CloudHsmServiceException',
  CloudHsmTag = 'CloudHsmTagException',
  CloudHsmResourceLimitExceeded = 'CloudHsmResourceLimitExceededException',
  // KMS
  KmsNotFound = 'NotFoundException',
  KmsInvalidState = 'KMSInvalidStateException',
  KmsInvalidSignature = 'KMSInvalidSignatureException',
  UnsupportedOperation = 'UnsupportedOperationException',
  InvalidImportToken = 'InvalidImportTokenException',
  ExpiredImportToken = 'ExpiredImportTokenException',
  IncorrectKeyMaterial = 'IncorrectKeyMaterialException',
  InvalidCiphertext = 'InvalidCiphertextException',
  InvalidKeyUsage = 'InvalidKeyUsageException',
  // Protocol level (any service)
  Validation = 'ValidationException',
  UnknownOperation = 'UnknownOperationException',
  SerializationException = 'SerializationException',
  MissingAuthenticationToken = 'MissingAuthenticationTokenException',
  Throttling = 'ThrottlingException',
}

/** The one exception of `@keyfleet/local-aws`: an AWS service error, as AWS would send it. */
export class LocalAwsException extends Error {
  override readonly name = 'LocalAwsException';

  constructor(
    readonly type: LocalAwsErrorType,
    message: string,
    /** 400 for client errors; 500 for internal failures (the SDKs retry those). */
    readonly httpStatus: number = 400,
  ) {
    super(message);
  }
}
