import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { LocalAwsException } from '@keyfleet/local-aws';

interface JsonResponse {
  status(code: number): JsonResponse;
  json(body: unknown): void;
}

/** Admin endpoint errors: an emulator refusal becomes 400/404 with the AWS type and message. */
@Catch(LocalAwsException, HttpException)
export class LocalAwsExceptionFilter implements ExceptionFilter {
  catch(error: LocalAwsException | HttpException, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<JsonResponse>();
    if (error instanceof HttpException) {
      res.status(error.getStatus()).json(error.getResponse());
      return;
    }
    const status = error.type.endsWith('NotFoundException') ? 404 : error.httpStatus;
    res.status(status).json({ __type: error.type, message: error.message });
  }
}
