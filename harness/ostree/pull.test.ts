import { describe, it, expect } from 'vitest';
import { OutputParseError } from './errors.js';
import { parsePullSummary } from './pull.js';
import { sample } from './testdata/samples.js';

describe('parsePullSummary', () => {
  it('finds the seed rebase summary behind a spinner line, with no-break spaces in the sizes', () => {
    expect(parsePullSummary(sample('pull-fcos-seed-rebase.txt'))).toEqual({
      metadata: 1152,
      content: 4223,
      transferredBytes: 244_496 * 1024,
      seconds: 13,
      writtenBytes: 370_700_000,
      text: '1152 metadata, 4223 content objects fetched; 244496 KiB transferred in 13 seconds; 370.7\u00a0MB content written',
    });
  });

  it('takes the last of several summaries, in bytes when under 1 KiB', () => {
    const summary = parsePullSummary(sample('pull-ostree-2389-admin-upgrade.txt'));
    expect(summary).toEqual({
      metadata: 2,
      content: 0,
      transferredBytes: 788,
      seconds: 2,
      writtenBytes: 0,
      text: '2 metadata, 0 content objects fetched; 788 B transferred in 2 seconds; 0 bytes content written',
    });
  });

  it('reads a real download: KiB transferred, MB written', () => {
    expect(parsePullSummary(sample('pull-ostree-2389-admin-upgrade-new.txt'))).toMatchObject({
      metadata: 134,
      content: 72,
      transferredBytes: 76_509 * 1024,
      seconds: 21,
      writtenBytes: 90_900_000,
    });
  });

  it('reads static-delta pulls and decimal-comma sizes', () => {
    expect(parsePullSummary(sample('pull-ostree-2680-delta-localized.txt'))).toEqual({
      deltaParts: 1,
      loose: 68,
      transferredBytes: 4702 * 1024,
      seconds: 0,
      writtenBytes: 1_100_000,
      text: '1 delta parts, 68 loose fetched; 4702 KiB transferred in 0 seconds; 1,1 MB content written',
    });
    expect(parsePullSummary(sample('pull-ostree-2680-objects-localized.txt'))).toMatchObject({
      metadata: 19,
      content: 75,
      writtenBytes: 13_400_000,
    });
  });

  it('reads the objects found in a local cache repo', () => {
    const summary = parsePullSummary(sample('pull-ostree-982-localcache.txt'));
    expect(summary).toEqual({
      metadata: 459,
      content: 1445,
      localMetadata: 6433,
      localContent: 20181,
      transferredBytes: 204_282 * 1024,
      seconds: 114,
      text: '459 metadata, 1445 content objects fetched (6433 meta, 20181 content local); 204282 KiB transferred in 114 seconds',
    });
    expect(summary).not.toHaveProperty('writtenBytes');
    expect(parsePullSummary(sample('pull-ostree-test-localcache.txt'))).toEqual({
      metadata: 2,
      content: 1,
      localMetadata: 4,
      localContent: 5,
      text: '2 metadata, 1 content objects fetched (4 meta, 5 content local)',
    });
  });

  it('marks pull-local imports, which transfer nothing', () => {
    const summary = parsePullSummary(sample('pull-silverblue-405-pull-local.txt'));
    expect(summary).toEqual({ metadata: 1, content: 0, imported: true, writtenBytes: 0, text: '1 metadata, 0 content objects imported; 0 bytes content written' });
    expect(summary).not.toHaveProperty('transferredBytes');
  });

  it('reads the bare counts of an old ostree that transferred nothing', () => {
    // Quoted in markdown backticks in the issue: the trailing backtick is not part of the summary.
    expect(parsePullSummary(sample('pull-ostree-1832-nothing-new.txt'))).toEqual({ metadata: 1, content: 0, text: '1 metadata, 0 content objects fetched' });
  });

  it('reads summaries padded with spaces, behind a journal prefix, or without `content written`', () => {
    expect(parsePullSummary(sample('pull-ostree-2585-mirror.txt'))).toMatchObject({ metadata: 4, content: 0, transferredBytes: 2048, seconds: 13 });
    expect(parsePullSummary(sample('pull-rpm-ostree-2109-journal.txt'))).toMatchObject({ metadata: 2, transferredBytes: 788, writtenBytes: 0 });
    const old = parsePullSummary(sample('pull-sig-atomic-247-commit-metadata-only.txt'));
    expect(old).toMatchObject({ metadata: 6, content: 0, transferredBytes: 460, seconds: 1 });
    expect(old).not.toHaveProperty('writtenBytes');
  });

  it('returns undefined when no summary was printed', () => {
    expect(parsePullSummary(sample('pull-rpm-ostree-882-interrupted.txt'))).toBeUndefined();
    expect(parsePullSummary(sample('pull-ostree-1421-progress-only.txt'))).toBeUndefined();
    expect(parsePullSummary('')).toBeUndefined();
    expect(parsePullSummary('\u2809 Receiving delta parts: 0/27 5.3 MB/s 26.7 MB/355.4 MB')).toBeUndefined();
  });

  it('strips terminal escapes and reads a summary drawn over a progress line with \\r', () => {
    const tty = '\x1b[2K\rReceiving objects: 98% (128/130) 16.4 MB/s 131.1 MB\r\x1b[2K6 metadata, 0 content objects fetched; 460 B transferred in 1 seconds\n';
    expect(parsePullSummary(tty)).toMatchObject({ metadata: 6, transferredBytes: 460 });
  });

  it('throws on a summary cut short or followed by something it does not know, rather than half-reading it', () => {
    const line = sample('pull-fcos-seed-rebase.txt').split('\n')[0] ?? '';
    const cut = line.slice(0, line.indexOf('transferred in') + 'transferred in 1'.length);
    expect(() => parsePullSummary(cut)).toThrow(OutputParseError);
    expect(() => parsePullSummary('2 metadata, 0 content objects fetched; 788 B transferred in 3 seconds; 0 bytes content written; 3 new refs')).toThrow(
      /unexpected "; 3 new refs"/,
    );
    expect(() => parsePullSummary('1 metadata, 0 content objects fetched; 153 B transferred in 0 seconds; 7 parsecs content written')).toThrow(
      OutputParseError,
    );
  });
});
