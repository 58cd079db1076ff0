export { ConfigException, ConfigExceptionCode } from './lib/config.exception';
export { LOG_LEVELS, SECRET_FIELD, envFields, type LogLevel } from './lib/env-fields';
export { loadConfig } from './lib/load-config';
export {
  dataServiceConfig,
  httpAndLogFields,
  messagingServiceConfig,
  type DataServiceConfig,
  type MessagingServiceConfig,
  type ServiceConfigBase,
  type ServiceConfigOptions,
} from './lib/service-config';
