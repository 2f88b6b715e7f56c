import { describe, it, expect } from 'vitest';
import { LayercheckError } from '../util/errors.js';
import { OutputParseError, excerpt } from './errors.js';

describe('OutputParseError', () => {
  it('is a LayercheckError with code E_PARSE that quotes the unreadable text', () => {
    const error = new OutputParseError('size', '12 parsecs', 'unknown unit');
    expect(error).toBeInstanceOf(LayercheckError);
    expect(error.code).toBe('E_PARSE');
    expect(error.name).toBe('OutputParseError');
    expect(error.message).toBe('could not read size (unknown unit): "12 parsecs"');
    expect(error.context).toMatchObject({ what: 'size', length: 10 });
  });

  it('quotes only the head of a long text, escaping control characters', () => {
    const text = `\u2809 Receiving objects\r${'x'.repeat(500)}`;
    const quoted = excerpt(text);
    expect(quoted.startsWith('"\u2809 Receiving objects\\r')).toBe(true);
    expect(quoted.endsWith(`… (${text.length} chars)`)).toBe(true);
    expect(quoted.length).toBeLessThan(200);
    expect(excerpt('')).toBe('(empty)');
  });
});
