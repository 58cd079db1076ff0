export { KeyfleetException } from './lib/keyfleet.exception';
