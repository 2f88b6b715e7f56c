import { describe, it, expect } from 'vitest';
import { OutputParseError } from './errors.js';
import { parseLayerReport } from './layers.js';
import { sample } from './testdata/samples.js';

describe('parseLayerReport', () => {
  describe('rpm-ostree before 2023.4: `<kind> layers stored: N needed: M (size)`', () => {
    it('sums chunk and custom layers and lists the fetched custom layer', () => {
      expect(parseLayerReport(sample('layers-rpm-ostree-3827-stored-custom.txt'))).toEqual({
        present: 1,
        needed: 1,
        neededBytes: 11_000_000,
        fetched: [{ id: 'sha256:7c5cc0027a45', bytes: 11_000_000 }],
      });
    });

    it('lists chunk and layer fetches in order, `Fetched` lines ignored', () => {
      expect(parseLayerReport(sample('layers-rpm-ostree-4532-stored-both.txt'))).toEqual({
        present: 0,
        needed: 3,
        neededBytes: 1_300_000_000 + 17_800_000,
        fetched: [
          { id: 'sha256:f960a937b629', bytes: 1_300_000_000 },
          { id: 'sha256:5f250121caf9', bytes: 414 },
          { id: 'sha256:add4dfd423a2', bytes: 17_800_000 },
        ],
      });
    });

    it('reads a chunk-only image (no custom line)', () => {
      const report = parseLayerReport(sample('layers-rpm-ostree-4179-stored-chunks.txt'));
      expect(report).toMatchObject({ present: 60, needed: 5, neededBytes: 886_300_000 });
      expect(report?.fetched.map((f) => f.bytes)).toEqual([40_700_000, 75_700_000, 17_900_000, 744_800_000, 7_200_000]);
    });
  });

  describe('rpm-ostree since 2023.4: separate `already present` and `needed` lines', () => {
    it('reads a French-locale rebase', () => {
      const report = parseLayerReport(sample('layers-bazzite-1783-present-fr.txt'));
      expect(report).toMatchObject({ present: 3, needed: 70, neededBytes: 4_700_000_000 });
      expect(report?.fetched).toHaveLength(10);
      expect(report?.fetched[0]).toEqual({ id: 'sha256:d123e54628bf', bytes: 271_500_000 });
      expect(report?.fetched[9]).toEqual({ id: 'sha256:edfa49b14291', bytes: 24_300_000 });
    });

    it('reads `[i/N] Fetching ostree chunk <hex>` lines', () => {
      expect(parseLayerReport(sample('layers-rpm-ostree-5198-indexed.txt'))).toEqual({
        present: 31,
        needed: 40,
        neededBytes: 1_100_000_000,
        fetched: [{ id: '597ed862bdf6f78f2ed', bytes: 22_900_000 }],
      });
    });

    it('counts zero present when only `needed` lines were printed', () => {
      expect(parseLayerReport(sample('layers-rpm-ostree-4791-needed-only.txt'))).toEqual({
        present: 0,
        needed: 67,
        neededBytes: 2_000_000_000 + 185_400_000,
        fetched: [],
      });
    });

    it('counts zero needed when only `already present` was printed', () => {
      expect(parseLayerReport('ostree chunk layers already present: 65\ncustom layers already present: 2\n')).toEqual({
        present: 67,
        needed: 0,
        neededBytes: 0,
        fetched: [],
      });
    });
  });

  describe('ostree-ext / bootc: `layers already present: N; layers needed: M (size)`', () => {
    it('reads a bootc journal where the summary is logged twice', () => {
      expect(parseLayerReport(sample('layers-bootc-journal-zenndocs.txt'))).toEqual({ present: 68, needed: 1, neededBytes: 150, fetched: [] });
    });

    it('reads `bootc switch`, whose binary `Fetched layers:` total is not a layer line', () => {
      expect(parseLayerReport(sample('layers-bootc-switch-microshift.txt'))).toEqual({
        present: 80,
        needed: 2,
        neededBytes: 230_500_000,
        fetched: [],
      });
    });

    it('finds a `Fetching layer` inside an indicatif progress line', () => {
      expect(parseLayerReport(sample('layers-ostree-container-pull-microshift.txt'))).toEqual({
        present: 0,
        needed: 82,
        neededBytes: 5_300_000_000,
        fetched: [{ id: 'sha256:d26ef76e8676', bytes: 307_900_000 }],
      });
    });
  });

  it('reports the last of several pulls, each fetched layer once', () => {
    const first = sample('layers-rpm-ostree-4179-stored-chunks.txt');
    const second = [
      'Pulling manifest: ostree-unverified-image:docker://quay.io/fedora-ostree-desktops/kinoite-nightly',
      'ostree chunk layers stored: 64 needed: 1 (7.2 MB)',
      '\r[1/1] Fetching ostree chunk sha256:868bb500c3c5 (7.2 MB)\r[1/1] Fetching ostree chunk sha256:868bb500c3c5 (7.2 MB)... done',
    ].join('\n');
    expect(parseLayerReport(`${first}${second}\n`)).toEqual({
      present: 64,
      needed: 1,
      neededBytes: 7_200_000,
      fetched: [{ id: 'sha256:868bb500c3c5', bytes: 7_200_000 }],
    });
  });

  it('returns undefined when no summary was printed', () => {
    expect(parseLayerReport(sample('layers-rpm-ostree-3310-downloading.txt'))).toBeUndefined();
    expect(parseLayerReport(sample('pull-fcos-seed-rebase.txt'))).toBeUndefined();
    expect(parseLayerReport('')).toBeUndefined();
  });

  it('throws on a layer line it cannot read instead of dropping it', () => {
    expect(() => parseLayerReport('ostree chunk layers already present: 3\nostree chunk layers needed: 70 (4,7')).toThrow(OutputParseError);
    expect(() => parseLayerReport('layers already present: 2; layers needed: 71 (1.5 parsecs)')).toThrow(/layer report/);
  });
});
