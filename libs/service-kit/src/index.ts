export {
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  bootstrapService,
  startServiceApp,
  type RunningService,
  type ServiceDefinition,
} from './lib/bootstrap-service';
export { ServiceRuntime, ServiceRuntimeModule, type ServiceRuntimeOptions } from './lib/service-runtime.module';
export { ServiceKitException, ServiceKitExceptionCode } from './lib/service-kit.exception';
