import { MessageTypes } from '@keyfleet/contracts';
import type { KeyInventoryRepository } from '../../key-inventory.repository';
import type { InventoryKey, InventoryKeyVersion } from '../../key.model';
import type { RegisterKeyCommand } from './register-key.command';
import { RegisterKeyUseCase } from './register-key.use-case';

class InMemoryKeyInventory implements KeyInventoryRepository {
  readonly keys = new Map<string, { key: InventoryKey; versions: InventoryKeyVersion[] }>();

  async findKey(alias: string): Promise<InventoryKey | null> {
    return this.keys.get(alias)?.key ?? null;
  }

  async insertKey(key: InventoryKey, firstVersion: InventoryKeyVersion): Promise<void> {
    this.keys.set(key.alias, { key, versions: [firstVersion] });
  }
}

const command: RegisterKeyCommand = {
  commandId: '01936d2a-0000-7000-8000-000000000001',
  correlationId: '01936d2a-0000-7000-8000-000000000001',
  actor: { kind: 'operator', id: 'alice' },
  alias: 'payments',
  keyType: 'aes-256',
  usage: ['encrypt-decrypt'],
  description: null,
};

describe(RegisterKeyUseCase.name, () => {
  let repository: InMemoryKeyInventory;
  let sut: RegisterKeyUseCase;

  beforeEach(() => {
    repository = new InMemoryKeyInventory();
    sut = new RegisterKeyUseCase(repository);
  });

  it('registers version 1 as pending, labelled from alias and version', async () => {
    const result = await sut.execute(command);
    expect(result.outcome).toBe('registered');
    expect(repository.keys.get('payments')?.versions).toEqual([{ alias: 'payments', version: 1, label: 'payments/v1', state: 'pending' }]);
  });

  it('answers with KeyRegisteredV1 carrying the command as cause and correlation', async () => {
    const { events } = await sut.execute(command);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: MessageTypes.KeyRegisteredV1,
      subject: 'payments',
      correlationId: command.correlationId,
      causationId: command.commandId,
      data: { alias: 'payments', version: 1, keyType: 'aes-256', state: 'pending', label: 'payments/v1' },
    });
  });

  it('rejects an alias that already exists and changes nothing', async () => {
    await sut.execute(command);
    const before = repository.keys.get('payments');
    const result = await sut.execute({ ...command, keyType: 'rsa-2048', commandId: '01936d2a-0000-7000-8000-000000000002' });
    expect(result).toMatchObject({ outcome: 'rejected', reason: 'a key with alias payments already exists' });
    expect(result.events[0]).toMatchObject({
      type: MessageTypes.KeyCommandRejectedV1,
      data: { commandType: MessageTypes.KeyCreateRequestedV1, reason: 'a key with alias payments already exists' },
    });
    expect(repository.keys.get('payments')).toBe(before);
  });

  it('rejects a usage the key type cannot do', async () => {
    const result = await sut.execute({ ...command, alias: 'signing', keyType: 'aes-256', usage: ['sign-verify'] });
    expect(result).toMatchObject({
      outcome: 'rejected',
      reason: 'aes-256 keys do not support sign-verify (supported: encrypt-decrypt, wrap-unwrap)',
    });
    expect(repository.keys.size).toBe(0);
  });
});
