export { HsmException, HsmExceptionCode } from './lib/hsm.exception';
export { loadIsolatedModule } from './lib/isolated-module';
