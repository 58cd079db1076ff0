import { Controller, Inject } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import type { Logger } from 'pino';
import { GatewayException, GatewayExceptionCode, type UserAdministration } from '@keyfleet/gateway';
import { LOGGER } from '@keyfleet/observability';
import type { AdminAudit } from '../admin/admin-audit';
import { ADMIN_AUDIT, ADMIN_AUTHORIZER, USER_ADMIN, type AdminAuthorizer } from '../gateway.tokens';
import { runAdminCall, type AdminCall, type AdminSubject } from './admin-call';

/** `keyfleet.hsm.v1.HsmAdmin`, crypto users: passwords come from the named secrets, never from the request. */
@Controller()
export class HsmAdminUsersController {
  constructor(
    @Inject(USER_ADMIN) private readonly users: UserAdministration,
    @Inject(ADMIN_AUTHORIZER) private readonly authorizer: AdminAuthorizer,
    @Inject(ADMIN_AUDIT) private readonly audit: AdminAudit,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  @GrpcMethod('HsmAdmin', 'ListCryptoUsers')
  listCryptoUsers(req: { clusterId: string }, _metadata: unknown, call: AdminCall) {
    return this.run(call, 'list-crypto-users', { clusterId: req.clusterId }, () => this.users.listUsers(required(req.clusterId, 'cluster_id')));
  }

  @GrpcMethod('HsmAdmin', 'CreateCryptoUser')
  createCryptoUser(req: { clusterId: string; secretId: string; username: string }, _metadata: unknown, call: AdminCall) {
    return this.run(call, 'create-crypto-user', { clusterId: req.clusterId, username: req.username }, () =>
      this.users.createCryptoUser(required(req.clusterId, 'cluster_id'), required(req.secretId, 'secret_id'), req.username || undefined),
    );
  }

  @GrpcMethod('HsmAdmin', 'DeleteCryptoUser')
  deleteCryptoUser(req: { clusterId: string; username: string }, _metadata: unknown, call: AdminCall) {
    return this.run(call, 'delete-crypto-user', { clusterId: req.clusterId, username: req.username }, () =>
      this.users.deleteCryptoUser(required(req.clusterId, 'cluster_id'), required(req.username, 'username')),
    );
  }

  @GrpcMethod('HsmAdmin', 'ChangeCryptoUserPassword')
  changePassword(req: { clusterId: string; secretId: string; username: string; versionStage: string }, _metadata: unknown, call: AdminCall) {
    return this.run(call, 'change-password', { clusterId: req.clusterId, username: req.username }, () => {
      const stage = req.versionStage || 'AWSPENDING';
      if (stage !== 'AWSPENDING' && stage !== 'AWSCURRENT') throw new GatewayException(GatewayExceptionCode.InvalidArgument, 'version_stage must be AWSPENDING or AWSCURRENT');
      return this.users.changePassword(required(req.clusterId, 'cluster_id'), required(req.secretId, 'secret_id'), stage, req.username || undefined);
    });
  }

  private run<T>(call: AdminCall, action: Parameters<typeof runAdminCall>[2], subject: AdminSubject, work: () => T | Promise<T>): Promise<T> {
    return runAdminCall({ authorizer: this.authorizer, audit: this.audit, logger: this.logger }, call, action, subject, work);
  }
}

function required(value: string | undefined, name: string): string {
  if (!value) throw new GatewayException(GatewayExceptionCode.InvalidArgument, `${name} is required`);
  return value;
}
