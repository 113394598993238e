import { describe, expect, it } from 'vitest';
import { CodedError, describeError } from '../../lib/errors';

class ThingError extends CodedError<'ERR_THING'> {}

describe('CodedError', () => {
  it('carries its code, its subclass name and a cause', () => {
    const cause = new Error('underneath');
    const err = new ThingError('ERR_THING', 'the thing failed', { cause });
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe('ERR_THING');
    expect(err.name).toBe('ThingError');
    expect(err.cause).toBe(cause);
    expect(String(err)).toBe('ThingError: the thing failed');
  });
});

describe('describeError', () => {
  it('puts a string code before the message unless the message names it already', () => {
    expect(describeError(new CodedError('ERR_X', 'what failed'))).toBe('ERR_X: what failed');
    expect(describeError(Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' }))).toBe('ENOENT: no such file');
    // numeric codes (fflate's, for one) are not error codes to show
    expect(describeError(Object.assign(new Error('invalid zip data'), { code: 13 }))).toBe('invalid zip data');
    expect(describeError(new TypeError('bad'))).toBe('bad');
  });

  it('describes what is not an Error by its string form', () => {
    expect(describeError('plain')).toBe('plain');
    expect(describeError(42)).toBe('42');
    expect(describeError(undefined)).toBe('undefined');
  });
});
