import { describe, expect, it } from 'vitest';
import { OutputParseError } from './errors.js';
import { parseDeploymentPath, parseMetadataString } from './metadata.js';

describe('parseMetadataString', () => {
  it('reads the quoted digest ostree show prints (captured from the reference disk)', () => {
    expect(parseMetadataString("'sha256:0941aa7000bfb64bd5bda5ea4fc8c9c7664279a02f89004d5f668f36c8410e68'\n")).toBe(
      'sha256:0941aa7000bfb64bd5bda5ea4fc8c9c7664279a02f89004d5f668f36c8410e68',
    );
  });

  it('undoes escapes and accepts the double-quoted form GVariant uses for values with a quote', () => {
    expect(parseMetadataString(`"it's"`)).toBe("it's");
    expect(parseMetadataString("'a\\\\b'")).toBe('a\\b');
  });

  it('refuses text that is not a GVariant string, quoting it', () => {
    expect(() => parseMetadataString('error: No such metadata key')).toThrow(OutputParseError);
    expect(() => parseMetadataString('42')).toThrow(/42/);
  });
});

describe('parseDeploymentPath', () => {
  it('takes commit and serial from a resolved ostree= path', () => {
    const commit = '02070bac40108ef6dd3060d43cef37a3187a21cc0a47dd680a063298f7de0d39';
    expect(parseDeploymentPath(`/sysroot/ostree/deploy/refos/deploy/${commit}.0\n`)).toEqual({ commit, serial: 0 });
  });

  it('refuses a path that is not a deployment', () => {
    expect(() => parseDeploymentPath('/ostree/boot.1/refos/abc/0')).toThrow(OutputParseError);
  });
});
