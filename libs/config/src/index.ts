export { ConfigException, ConfigExceptionCode } from './lib/config.exception';
export { envFields } from './lib/env-fields';
export { loadConfig } from './lib/load-config';
export { dataServiceConfig, messagingServiceConfig, type DataServiceConfig, type MessagingServiceConfig } from './lib/service-config';
