import { status } from '@grpc/grpc-js';
import pino from 'pino';
import { GatewayException, GatewayExceptionCode } from '@keyfleet/gateway';
import { statusOf, toGrpcError } from './grpc-status.mapper';

describe(toGrpcError.name, () => {
  const lines: string[] = [];
  const logger = pino({ level: 'error' }, { write: (line: string) => void lines.push(line) });

  it('maps every gateway code to its gRPC status and keeps the reason', () => {
    const expected: Record<GatewayExceptionCode, status> = {
      [GatewayExceptionCode.InvalidArgument]: status.INVALID_ARGUMENT,
      [GatewayExceptionCode.NotFound]: status.NOT_FOUND,
      [GatewayExceptionCode.AlreadyExists]: status.ALREADY_EXISTS,
      [GatewayExceptionCode.PermissionDenied]: status.PERMISSION_DENIED,
      [GatewayExceptionCode.FailedPrecondition]: status.FAILED_PRECONDITION,
      [GatewayExceptionCode.ResourceExhausted]: status.RESOURCE_EXHAUSTED,
      [GatewayExceptionCode.Unavailable]: status.UNAVAILABLE,
      [GatewayExceptionCode.DeadlineExceeded]: status.DEADLINE_EXCEEDED,
      [GatewayExceptionCode.Internal]: status.INTERNAL,
    };
    for (const code of Object.values(GatewayExceptionCode)) {
      expect(statusOf(code)).toBe(expected[code]);
      expect(toGrpcError(new GatewayException(code, `reason for ${code}`), logger)).toEqual({ code: expected[code], message: `reason for ${code}` });
    }
  });

  it('turns anything else into INTERNAL with an error id that is logged with the cause, and nothing of the cause returned', () => {
    const sut = toGrpcError(new Error('pin 1234 rejected by libfoo'), logger);

    expect(sut.code).toBe(status.INTERNAL);
    expect(sut.message).toMatch(/^internal error \(error id [0-9a-f-]{36}\)$/);
    expect(sut.message).not.toContain('1234');
    const errorId = /error id ([0-9a-f-]{36})/.exec(sut.message)?.[1] ?? 'none';
    expect(lines.some((l) => l.includes(errorId) && l.includes('"err"'))).toBe(true);
  });
});
