export { bootstrapService, type RunningService, type ServiceContext, type ServiceDefinition } from './lib/bootstrap-service';
export { ServiceRuntime, ServiceRuntimeModule, type ServiceRuntimeOptions } from './lib/service-runtime.module';
