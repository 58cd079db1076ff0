import { BadRequestException, Controller, Get, Inject, Query } from '@nestjs/common';
import { verifyChain, type AuditRecord, type ChainVerification } from '@keyfleet/audit-log';
import { ServiceRuntime } from '@keyfleet/service-kit';
import { PostgresAuditLogRepository } from '../persistence/audit-log.repository';

const PAGE = 1_000;

/** Read side of the audit log: records by position, and verification of the whole chain. */
@Controller('audit')
export class AuditController {
  constructor(@Inject(ServiceRuntime) private readonly runtime: ServiceRuntime) {}

  /** Records from `from` (default 1), at most `limit` (default 100, max 1000), in sequence order. */
  @Get('records')
  async records(@Query('from') from = '1', @Query('limit') limit = '100'): Promise<{ records: AuditRecord[] }> {
    const start = Number(from);
    const count = Number(limit);
    if (!Number.isInteger(start) || start < 1) throw new BadRequestException('from: expected an integer >= 1');
    if (!Number.isInteger(count) || count < 1 || count > PAGE) throw new BadRequestException(`limit: expected an integer 1-${PAGE}`);
    const repository = new PostgresAuditLogRepository(this.runtime.dataSource.manager);
    return { records: await repository.readRange(start, count) };
  }

  /** Walks the whole chain page by page; reports the first broken sequence, if any. */
  @Get('verify')
  async verify(): Promise<ChainVerification> {
    const repository = new PostgresAuditLogRepository(this.runtime.dataSource.manager);
    let next = 1;
    let previousHash: string | undefined;
    let count = 0;
    for (;;) {
      const page = await repository.readRange(next, PAGE);
      if (page.length === 0) break;
      const result = verifyChain(page, previousHash);
      if (!result.ok) return result;
      count += result.count;
      previousHash = result.headHash;
      next += page.length;
    }
    return { ok: true, count, headHash: previousHash ?? '' };
  }
}
