import { describe, it, expect } from 'vitest';
import { OutputParseError } from './errors.js';
import { parseSize } from './size.js';

describe('parseSize', () => {
  // Every printed size below appears in a captured sample under testdata/ (file named in the comment).
  it.each([
    ['787.1 MB', 787_100_000], // DESIGN.md (GLib SI)
    ['370.7\u00a0MB', 370_700_000], // pull-fcos-seed-rebase.txt: GLib >= 2.76 puts U+00A0 before the unit
    ['861.9 kB', 861_900], // GLib's kilo is lower-case
    ['0 bytes', 0], // pull-ostree-2389-admin-upgrade.txt
    ['150 bytes', 150], // layers-bootc-journal-zenndocs.txt
    ['1 byte', 1], // GLib singular
    ['569 B', 569], // indicatif HumanBytes below 1 KiB
    ['788 B', 788], // ostree pull summary below 1 KiB
    ['771.87 MiB', Math.round(771.87 * 1024 ** 2)], // indicatif binary
    ['219.81 MiB', Math.round(219.81 * 1024 ** 2)], // layers-bootc-switch-microshift.txt
    ['244496 KiB', 244_496 * 1024], // ostree pull summary
    ['1.2 kB', 1200],
    ['1.3 GB', 1_300_000_000], // layers-rpm-ostree-4532-stored-both.txt
    ['4,7 Go', 4_700_000_000], // layers-bazzite-1783-present-fr.txt: French GLib
    ['271,5 Mo', 271_500_000],
    ['9,7 Mo', 9_700_000],
    ['1,1 MB', 1_100_000], // pull-ostree-2680-delta-localized.txt: decimal comma, English unit
    ['13,4 MB', 13_400_000],
    ['1,5 Gio', 1_610_612_736], // GLib French --iec
    ['3 octets', 3],
    ['1 234 567 octets', 1_234_567], // a whole byte count may carry digit grouping
    ['1,234 bytes', 1234],
    ['2.0 GB', 2_000_000_000],
    ['5.3 GB', 5_300_000_000],
    ['12 KB', 12_000], // decision: kilo is 1000 whatever its case; only `i` means binary
    ['787.1MB', 787_100_000],
    ['  1.0\u202fTB ', 1e12],
  ])('%j -> %d bytes', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it.each(['', 'MB', '12', 'twelve MB', '1.5 bytes', '1.2.3 MB', '-5 MB', '12 Mb', '12 mB', '1,234.5 MB', '3 parsecs', '1e3 MB', 'NaN MB'])(
    'refuses %j',
    (text) => {
      expect(() => parseSize(text)).toThrow(OutputParseError);
    },
  );
});
