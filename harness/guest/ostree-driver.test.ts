import { describe, expect, it } from 'vitest';
import { unquoteGVariantString } from './ostree-driver.js';

describe('unquoteGVariantString', () => {
  it('strips the single quotes ostree show prints around a string', () => {
    expect(unquoteGVariantString("'sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae'")).toBe(
      'sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae',
    );
  });

  it('undoes backslash escapes inside', () => {
    expect(unquoteGVariantString("'it\\'s'")).toBe("it's");
  });

  it('leaves unquoted text alone', () => {
    expect(unquoteGVariantString('42')).toBe('42');
  });
});
