import { createMessage, MessageTypes, type AnyMessage } from '@keyfleet/contracts';
import { RegisterKeyUseCase } from '@keyfleet/key-inventory';
import type { HandlerContext } from '@keyfleet/messaging';
import { PostgresKeyInventoryRepository } from '../persistence/key-inventory.repository';

const SOURCE = 'key-service';

/**
 * Handles `keyfleet.key.commands.v1`: each command becomes one use-case call whose state
 * change and answering events commit together. A valid message that is not a command this
 * service knows is answered with a rejection rather than dropped.
 */
export async function handleKeyCommand(message: AnyMessage, ctx: HandlerContext): Promise<void> {
  switch (message.type) {
    case MessageTypes.KeyCreateRequestedV1: {
      const useCase = new RegisterKeyUseCase(new PostgresKeyInventoryRepository(ctx.em));
      const result = await useCase.execute({
        commandId: message.id,
        correlationId: message.correlationId,
        actor: message.actor,
        alias: message.data.alias,
        keyType: message.data.keyType,
        usage: message.data.usage,
        description: message.data.description ?? null,
      });
      await ctx.outbox(result.events);
      return;
    }
    case MessageTypes.KeyRegisteredV1:
    case MessageTypes.KeyCommandRejectedV1:
    case MessageTypes.AuditRecordAppendedV1:
    case MessageTypes.CryptoOperationRecordedV1:
    case MessageTypes.GatewayBreakerStateChangedV1:
    case MessageTypes.GatewayAdminActionRecordedV1:
    case MessageTypes.KeyStateChangedV1:
    case MessageTypes.CryptoUserSwitchedV1:
    case MessageTypes.RoutingWeightsChangedV1:
      await ctx.outbox([
        createMessage({
          type: MessageTypes.KeyCommandRejectedV1,
          source: SOURCE,
          subject: message.subject,
          actor: { kind: 'service', id: SOURCE },
          causedBy: message,
          data: { commandType: message.type, reason: `${message.type} is not a command key-service accepts` },
        }),
      ]);
      return;
  }
}
