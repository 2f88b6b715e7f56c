import { OutputParseError } from './errors.js';

/*
 * Sizes reach us from three printers:
 *  - GLib `g_format_size` (ostree, rpm-ostree, ostree-rs-ext): SI, one decimal, `kB MB GB ...`, below
 *    1000 `N bytes`; translated (`4,7 Go`, `271,5 Mo`, `octets`), and since GLib 2.76 with a no-break
 *    space before the unit (`3.7\u00a0GB`).
 *  - Rust indicatif `HumanBytes` (bootc "Fetched layers: 219.81 MiB"): binary, two decimals, `N B` below 1 KiB.
 *  - ostree's own pull summary: `K KiB` / `N B` (handled in pull.ts, also valid here).
 * Decision on `KB`: no printer in scope emits it, and the GLib French `Ko` means SI kilo, so a kilo prefix
 * is 1000 whatever its case; only an `i` (`KiB`, `Kio`) makes a unit binary. Lower-case `b` (bits,
 * `--bits` in GLib) and `m` (milli) are refused rather than guessed.
 */
const PREFIX_POWER: Record<string, number> = { k: 1, K: 1, M: 2, G: 3, T: 4, P: 5, E: 6 };
const SCALED_UNIT = /^([kKMGTPE])(i?)([Bo])$/;
const BYTE_WORD = /^(?:B|o|bytes?|octets?)$/i;
// Spaces GLib and locales put between digits and unit, or between digit groups.
const SPACES = /[\s\u00a0\u202f\u2009]+/g;

/** Bytes (an integer, rounded) from a printed size such as `787.1 MB`, `771.87 MiB`, `0 bytes`, `4,7 Go`. */
export function parseSize(text: string): number {
  const fail = (detail: string): never => {
    throw new OutputParseError('size', text, detail);
  };
  const normal = text.replace(SPACES, ' ').trim();
  const match = /^(\d[\d ,.']*?) ?([^\d ,.']+)$/u.exec(normal);
  if (!match) return fail('expected a number and a unit');
  const [, number = '', unit = ''] = match;

  let multiplier: number;
  let value: number;
  if (BYTE_WORD.test(unit) && unit !== 'b') {
    multiplier = 1;
    // A byte count is whole; separators in it can only be digit grouping (`1 234 octets`, `1,234 bytes`).
    if (/^\d+$/.test(number)) value = Number(number);
    else if (/^\d{1,3}(?:[ ,.']\d{3})+$/.test(number)) value = Number(number.replace(/[ ,.']/g, ''));
    else return fail('a byte count must be a whole number');
  } else {
    const scaled = SCALED_UNIT.exec(unit);
    if (!scaled) return fail(`unknown unit ${JSON.stringify(unit)}`);
    const [, prefix = '', binary = ''] = scaled;
    multiplier = (binary ? 1024 : 1000) ** (PREFIX_POWER[prefix] ?? fail('unknown prefix'));
    // Scaled sizes carry at most one decimal separator, `.` or the locale's `,`.
    if (!/^\d+(?:[.,]\d+)?$/.test(number)) return fail('expected e.g. 787.1 or 4,7');
    value = Number(number.replace(',', '.'));
  }
  const bytes = Math.round(value * multiplier);
  if (!Number.isSafeInteger(bytes)) return fail('out of range');
  return bytes;
}
