import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LocalAwsErrorType as E, LocalAwsException } from './local-aws.exception';

/** One operation: the request's region and parsed body in, the response body out. */
export type AwsOperation = (region: string, input: unknown) => unknown;  // may return a promise

/** Operations of one service, by the prefix of `X-Amz-Target` (`secretsmanager`, `BaldrApiService`, `TrentService`). */
export type AwsServiceTable = Readonly<Record<string, Readonly<Record<string, AwsOperation>>>>;

export interface AwsJsonRequest {
  readonly target: string | undefined;
  readonly authorization: string | undefined;
  readonly body: Buffer;
}

export interface AwsJsonResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** The largest request body accepted (AWS JSON services cap requests near this size). */
export const MAX_REQUEST_BYTES = 1024 * 1024;

/** The region of a SigV4-signed request, from its credential scope `AKID/date/region/service/aws4_request`. */
export function regionOf(authorization: string | undefined): string | undefined {
  return /Credential=[^/,\s]+\/\d{8}\/([a-z0-9-]+)\/[a-z0-9-]+\/aws4_request/.exec(authorization ?? '')?.[1];
}

/**
 * AWS JSON 1.1 over HTTP: `POST /` with `X-Amz-Target: <Service>.<Operation>`, a JSON body,
 * and errors as `{ "__type", "message" }` with `x-amzn-errortype`. Signatures are not
 * verified (see docs/cloudhsm-local.md): the region is read from the credential scope.
 */
export class AwsJsonDispatcher {
  constructor(
    private readonly services: AwsServiceTable,
    /** Called after every operation that succeeded (the emulator persists its state there). */
    private readonly afterOperation: (target: string) => void,
    /** Hook for injected faults (admin endpoint); throws to fail the call. */
    private readonly beforeOperation: (target: string, region: string, input: unknown) => Promise<void> = () => Promise.resolve(),
    /** Told of an unexpected (non-AWS) error before it is answered as InternalFailure, so its cause is not lost. */
    private readonly onUnexpected: (err: unknown, target: string) => void = () => undefined,
  ) {}

  async handle(request: AwsJsonRequest): Promise<AwsJsonResponse> {
    const requestId = randomUUID();
    try {
      const [service = '', operation = ''] = (request.target ?? '').split('.');
      const op = this.services[service]?.[operation];
      if (!op) throw new LocalAwsException(E.UnknownOperation, `Operation ${request.target ?? '(none)'} is not supported by cloudhsm-local`);
      const region = regionOf(request.authorization);
      if (!region) throw new LocalAwsException(E.MissingAuthenticationToken, 'Missing Authentication Token', 403);
      if (request.body.length > MAX_REQUEST_BYTES) throw new LocalAwsException(E.SerializationException, 'Request body too large');
      let input: unknown;
      try {
        input = request.body.length === 0 ? {} : JSON.parse(request.body.toString('utf8'));
      } catch {
        throw new LocalAwsException(E.SerializationException, 'Request body is not valid JSON');
      }
      if (input === null || typeof input !== 'object' || Array.isArray(input)) {
        throw new LocalAwsException(E.SerializationException, 'Request body must be a JSON object');
      }
      await this.beforeOperation(request.target ?? '', region, input);
      const output: unknown = await op(region, input);
      this.afterOperation(request.target ?? '');
      return { status: 200, headers: this.headers(requestId), body: JSON.stringify(output ?? {}) };
    } catch (err) {
      if (!(err instanceof LocalAwsException)) this.onUnexpected(err, request.target ?? '');
      const error =
        err instanceof LocalAwsException ? err : new LocalAwsException(E.CloudHsmInternalFailure, 'An internal error occurred', 500);
      return {
        status: error.httpStatus,
        headers: { ...this.headers(requestId), 'x-amzn-errortype': error.type },
        body: JSON.stringify({ __type: error.type, message: error.message }),
      };
    }
  }

  /** A Node HTTP listener for the dispatcher (used by the app's HTTP server and by tests). */
  listener(): (req: IncomingMessage, res: ServerResponse) => void {
    return (req, res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_REQUEST_BYTES + 1) chunks.push(chunk);
      });
      req.on('end', () => {
        void this.handle({
          target: headerValue(req.headers['x-amz-target']),
          authorization: headerValue(req.headers.authorization),
          body: Buffer.concat(chunks),
        }).then((response) => {
          res.writeHead(response.status, response.headers);
          res.end(response.body);
        });
      });
    };
  }

  private headers(requestId: string): Record<string, string> {
    return { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': requestId };
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
