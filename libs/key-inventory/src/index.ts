export { KeyInventoryException, KeyInventoryExceptionCode } from './lib/key-inventory.exception';
export type { KeyInventoryRepository } from './lib/key-inventory.repository';
export { labelOf, type InventoryKey, type InventoryKeyVersion } from './lib/key.model';
export type { RegisterKeyCommand } from './lib/use-cases/register-key/register-key.command';
export { RegisterKeyUseCase, type RegisterKeyResult } from './lib/use-cases/register-key/register-key.use-case';
