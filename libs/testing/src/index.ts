export { deleteClusterTokens, deleteTopicsWithPrefix, dropSchemas, infraEnv, type InfraVariable } from './lib/infra-cleanup';
export {
  DEFAULT_STOP_TIMEOUT_MS,
  WORKSPACE_ROOT,
  builtEntry,
  freePort,
  runToExit,
  startService,
  type Exit,
  type ServiceProcess,
  type StartServiceOptions,
} from './lib/service-process';
export { TestingException, TestingExceptionCode } from './lib/testing.exception';
