import { RandomIvs } from './random-ivs';

describe(RandomIvs.name, () => {
  it('hands out IVs of the asked length, all different, across many refills of its block', () => {
    const sut = new RandomIvs(12);

    const ivs = Array.from({ length: 5_000 }, () => sut.next());

    expect(ivs.every((iv) => iv.length === 12)).toBe(true);
    expect(new Set(ivs.map((iv) => iv.toString('hex'))).size).toBe(ivs.length);
  });

  it('never changes an IV it handed out, also after its block was replaced', () => {
    const sut = new RandomIvs(12);
    const first = sut.next();
    const copy = Buffer.from(first);

    for (let i = 0; i < 1_000; i += 1) sut.next();

    expect(first.equals(copy)).toBe(true);
  });
});
