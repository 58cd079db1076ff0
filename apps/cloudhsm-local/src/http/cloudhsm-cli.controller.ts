import { BadRequestException, Body, Controller, HttpCode, Inject, Post } from '@nestjs/common';
import { z } from 'zod';
import { LocalAws, type CliResult } from '@keyfleet/local-aws';

const CREDENTIAL_VARIABLES = ['CLOUDHSM_ROLE', 'CLOUDHSM_PIN', 'DESTINATION_CLOUDHSM_ROLE', 'DESTINATION_CLOUDHSM_PIN'] as const;
const request = z.object({
  argv: z.array(z.string().max(4096)).min(1).max(200),
  env: z.record(z.string().max(512)).default({}),
});

/**
 * Where the `cloudhsm-cli` executable sends its command line: the server owns the state, so
 * the command runs here. Only the credential variables are taken from the caller's
 * environment. Loopback only, like the rest of cloudhsm-local.
 */
@Controller('cloudhsm-cli')
export class CloudHsmCliController {
  constructor(@Inject(LocalAws) private readonly localAws: LocalAws) {}

  @Post()
  @HttpCode(200)
  run(@Body() body: unknown): CliResult {
    const parsed = request.safeParse(body);
    if (!parsed.success) throw new BadRequestException('expected {"argv": [...], "env": {...}}');
    const env = Object.fromEntries(CREDENTIAL_VARIABLES.map((name) => [name, parsed.data.env[name]]));
    return this.localAws.cli.run({ argv: parsed.data.argv, env });
  }
}
