import { KeyfleetException } from './keyfleet.exception';

enum SampleCode {
  Broken = 'BROKEN',
}

class SampleException extends KeyfleetException<SampleCode> {}

describe(KeyfleetException.name, () => {
  it('carries its code, message, cause and the subclass name', () => {
    const cause = new Error('socket closed');
    const sut = new SampleException(SampleCode.Broken, 'could not talk', { cause });
    expect(sut).toBeInstanceOf(Error);
    expect(sut).toMatchObject({ name: 'SampleException', code: 'BROKEN', message: 'could not talk', cause });
  });
});
