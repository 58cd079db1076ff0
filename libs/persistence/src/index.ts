export { PersistenceException, PersistenceExceptionCode } from './lib/persistence.exception';
export {
  createServiceDataSource,
  initializeServiceDataSource,
  redactUrl,
  type ServiceDataSourceOptions,
} from './lib/service-data-source';
