import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LocalAws } from '@keyfleet/local-aws';

/**
 * `POST /` with an `X-Amz-Target` header is an AWS JSON 1.1 call: handed to the emulator
 * before Nest's routing (which has no route there). Everything else goes on to Nest.
 */
@Injectable()
export class AwsEndpointMiddleware implements NestMiddleware {
  private readonly listener: (req: IncomingMessage, res: ServerResponse) => void;

  constructor(@Inject(LocalAws) localAws: LocalAws) {
    this.listener = localAws.dispatcher.listener();
  }

  use(req: IncomingMessage, res: ServerResponse, next: () => void): void {
    if (req.method === 'POST' && req.headers['x-amz-target'] !== undefined) this.listener(req, res);
    else next();
  }
}
