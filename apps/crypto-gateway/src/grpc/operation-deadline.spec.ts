import { operationDeadline } from './operation-deadline';

describe(operationDeadline.name, () => {
  const now = 1_700_000_000_000;

  it('gives a call without a deadline the gateway\'s limit', () => {
    expect(operationDeadline(Infinity, now, 5000)).toBe(now + 5000);
  });

  it('keeps a caller\'s deadline that comes before the limit', () => {
    expect(operationDeadline(now + 200, now, 5000)).toBe(now + 200);
    expect(operationDeadline(new Date(now + 300), now, 5000)).toBe(now + 300);
  });

  it('caps a caller\'s deadline that comes after the limit', () => {
    expect(operationDeadline(new Date(now + 60_000), now, 5000)).toBe(now + 5000);
  });
});
