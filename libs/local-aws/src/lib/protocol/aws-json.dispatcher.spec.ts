import { AwsJsonDispatcher } from './aws-json.dispatcher';
import { LocalAwsErrorType, LocalAwsException } from './local-aws.exception';

const SIGNED = 'AWS4-HMAC-SHA256 Credential=AKID/20261201/eu-west-3/cloudhsm/aws4_request, SignedHeaders=host, Signature=x';

describe(AwsJsonDispatcher.name, () => {
  it('answers a bug as InternalFailure and hands its cause to the hook; AWS errors are not bugs', async () => {
    const seen: { err: unknown; target: string }[] = [];
    const sut = new AwsJsonDispatcher(
      {
        BaldrApiService: {
          Broken: () => {
            throw new TypeError('cannot read x of undefined');
          },
          Refused: () => {
            throw new LocalAwsException(LocalAwsErrorType.CloudHsmInvalidRequest, 'no');
          },
        },
      },
      () => undefined,
      undefined,
      (err, target) => seen.push({ err, target }),
    );
    const call = (op: string) => sut.handle({ target: `BaldrApiService.${op}`, authorization: SIGNED, body: Buffer.from('{}') });

    const broken = await call('Broken');
    const refused = await call('Refused');

    expect(broken.status).toBe(500);
    expect(JSON.parse(broken.body)).toEqual({ __type: 'CloudHsmInternalFailureException', message: 'An internal error occurred' });
    expect(refused.status).toBe(400);
    expect(seen).toEqual([{ err: new TypeError('cannot read x of undefined'), target: 'BaldrApiService.Broken' }]);
  });
});
