export { WORKSPACE_ROOT, builtEntry, freePort, runToExit, startService, type Exit, type ServiceProcess } from './lib/service-process';
export { deleteTopicsWithPrefix, dropSchemas, infraEnv } from './lib/infra-cleanup';
