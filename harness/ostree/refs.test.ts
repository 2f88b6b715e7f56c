import { describe, it, expect } from 'vitest';
import { OutputParseError } from './errors.js';
import { escapeRef, imageRef, isDigest, layerRef, parseRefs, unescapeRef } from './refs.js';
import { sample } from './testdata/samples.js';

const DIGEST = 'sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae';

describe('escapeRef / unescapeRef', () => {
  // Expected values from ostree-rs-ext refescape.rs (its unit tests and doc examples) and DESIGN.md.
  it.each([
    ['foo', 'foo'],
    ['foo/bar/baz-blah/foo', 'foo/bar/baz-blah/foo'],
    ['localhost:5000/foo:latest', 'localhost_3A_5000/foo_3A_latest'],
    ['registry:quay.io/coreos/fedora:latest', 'registry_3A_quay_2E_io/coreos/fedora_3A_latest'],
    ['docker://quay.io/fedora/fedora-coreos:stable', 'docker_3A__2F__2F_quay_2E_io/fedora/fedora-coreos_3A_stable'],
    [DIGEST, DIGEST.replace(':', '_3A_')],
    ['docker://quay.io/rhn_support_arolivei/microshift-4.18-bootc-embeeded:v2', 'docker_3A__2F__2F_quay_2E_io/rhn__support__arolivei/microshift-4_2E_18-bootc-embeeded_3A_v2'],
  ])('%s <-> %s', (plain, escaped) => {
    expect(escapeRef(plain)).toBe(escaped);
    expect(unescapeRef(escaped)).toBe(plain);
  });

  it('keeps `/` only after an alphanumeric and before more text, like the Rust code', () => {
    expect(escapeRef('/')).toBe('_2F_');
    expect(escapeRef('blah/')).toBe('blah_2F_');
    expect(escapeRef('/foo/')).toBe('_2F_foo_2F_');
    expect(escapeRef('a//b')).toBe('a/_2F_b');
    expect(escapeRef('a-/b')).toBe('a-_2F_b');
    expect(escapeRef('oci-archive:/path/to/foo.ociarchive')).toBe('oci-archive_3A__2F_path/to/foo_2E_ociarchive');
  });

  it('escapes non-ASCII by code point, as ostree-rs-ext does (`c as u32`), not by UTF-8 byte', () => {
    expect(escapeRef('é')).toBe('_E9_');
    expect(escapeRef('中/x')).toBe('_4E2D__2F_x');
    expect(escapeRef('😀')).toBe('_1F600_');
    expect(escapeRef('\0')).toBe('_00_');
    expect(escapeRef('')).toBe('');
  });

  it('round-trips thousands of pseudo-random strings, lone surrogates included', () => {
    const random = mulberry32(0x5eed);
    const alphabet = ['a', 'Z', '0', '9', '-', '_', '/', ':', '.', '@', ' ', '%', '\0', '\n', 'é', 'ß', '中', '😀', '\ud800', '\udfff', '_3A_', '__'];
    for (let n = 0; n < 5000; n++) {
      const length = Math.floor(random() * 24);
      let s = '';
      for (let i = 0; i < length; i++) s += alphabet[Math.floor(random() * alphabet.length)];
      const escaped = escapeRef(s);
      expect(unescapeRef(escaped)).toBe(s);
      // Always a usable ostree ref component list: [A-Za-z0-9_/-], no empty component.
      expect(escaped).toMatch(/^[A-Za-z0-9_/-]*$/);
      expect(escaped).not.toMatch(/^\/|\/\/|\/$/);
    }
  });

  it.each(['_', 'abc_', 'a_3A', 'a_ZZ_b', 'a:b', 'a b', '_110000_'])('refuses %j, which escapeRef never produces', (bad) => {
    expect(() => unescapeRef(bad)).toThrow(OutputParseError);
  });
});

describe('layerRef / imageRef', () => {
  it('names layer refs as ostree-rs-ext does (DESIGN.md example)', () => {
    expect(layerRef(DIGEST)).toBe('ostree/container/blob/sha256_3A_2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae');
    expect(imageRef('docker://quay.io/fedora/fedora-coreos:stable')).toBe(
      'ostree/container/image/docker_3A__2F__2F_quay_2E_io/fedora/fedora-coreos_3A_stable',
    );
  });

  it('refuses what is not a digest', () => {
    expect(() => layerRef('sha256:abc')).toThrow(OutputParseError);
    expect(() => layerRef('2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae')).toThrow(OutputParseError);
    expect(isDigest(DIGEST.toUpperCase())).toBe(false);
    expect(() => imageRef('')).toThrow(OutputParseError);
  });
});

describe('parseRefs', () => {
  it('reads the seed disk: 51 layer refs, no merged image ref, remote and deployment refs verbatim', () => {
    const refs = parseRefs(sample('refs-fcos-seed-layered.txt'));
    expect(refs.layers).toHaveLength(51);
    expect(refs.layers[0]).toBe('sha256:48ff87e7a7af41d7139c5230e2e939aa97cafb1f62a114825bda5f5904e04a0e');
    expect(refs.layers.at(-1)).toBe('sha256:9c7d42d386575f865a28f6bed1e3a24c3ce6511df416424e81deb4f6b7ed9b75');
    expect(refs.layers.every(isDigest)).toBe(true);
    expect(refs.images).toEqual([]);
    expect(refs.other).toEqual(['fedora:fedora/x86_64/coreos/testing-devel', 'ostree/1/1/0']);
    // layerRef is the exact inverse of what parseRefs read.
    expect(new Set(refs.layers.map(layerRef))).toEqual(
      new Set(sample('refs-fcos-seed-layered.txt').split('\n').filter((l) => l.startsWith('ostree/container/blob/'))),
    );
  });

  it('reads the seed disk after the update to a plain ostree commit: every layer ref gone', () => {
    expect(parseRefs(sample('refs-fcos-seed-after-rebase.txt'))).toEqual({
      layers: [],
      images: [],
      other: ['fedora:fedora/x86_64/coreos/stable', 'ostree/1/1/1', 'ostree/1/1/0'],
    });
  });

  it('unescapes a merged image ref whose name has `_` and `.`', () => {
    const refs = parseRefs(sample('refs-microshift-summary-names.txt'));
    expect(refs.layers).toHaveLength(7);
    expect(refs.images).toEqual(['docker://quay.io/rhn_support_arolivei/microshift-4.18-bootc-embeeded:v2']);
    expect(refs.other).toEqual([]);
  });

  it('keeps a remote-prefixed ref under ostree/container/ in other: ostree-rs-ext only counts local refs', () => {
    const blob = layerRef(DIGEST);
    expect(parseRefs(`mirror:${blob}\r\n${blob}\n\n`)).toEqual({ layers: [DIGEST], images: [], other: [`mirror:${blob}`] });
  });

  it('refuses empty output, error text and a layer ref that is no digest', () => {
    expect(() => parseRefs('')).toThrow(OutputParseError);
    expect(() => parseRefs(' \n\n')).toThrow(/no refs at all/);
    expect(() => parseRefs('ostree/1/1/0\nerror: opening repo: No such file or directory')).toThrow(/not a ref/);
    expect(() => parseRefs('ostree/container/blob/sha256_3A_2c26')).toThrow(/not a digest/);
    expect(() => parseRefs('(org.example.Os, ostree/1/1/0)')).toThrow(OutputParseError);
  });
});

/** Small seeded PRNG so the property test is reproducible without a dependency. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
