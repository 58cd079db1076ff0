export { HsmException, HsmExceptionCode } from './lib/hsm.exception';
export { loadIsolatedModule } from './lib/isolated-module';
export { LoginMarker, isLoggedInElsewhere, markerName } from './lib/login-marker';
