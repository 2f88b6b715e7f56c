import { OutputParseError } from './errors.js';
import { parseSize } from './size.js';

/**
 * The summary libostree prints when a pull ends (ostree-repo-pull.c), as read from the output of
 * `ostree pull`, `ostree pull-local`, `ostree admin upgrade`, `rpm-ostree upgrade|rebase`, flatpak.
 * Each field is present only when the line printed it.
 */
export interface PullSummary {
  /** `N metadata, M content objects fetched|imported` */
  metadata?: number;
  content?: number;
  /** Set when the objects were `imported` from a local repo (`pull-local`) rather than fetched. */
  imported?: true;
  /** `N delta parts, M loose fetched` (a static-delta pull) */
  deltaParts?: number;
  loose?: number;
  /** ` (N meta, M content local)`: objects found in a local cache repo instead of fetched */
  localMetadata?: number;
  localContent?: number;
  /**
   * `; K KiB|B transferred in S seconds`. ostree floors to whole KiB at 1024 B and up, so this is
   * K*1024, a lower bound within 1023 bytes of the truth.
   */
  transferredBytes?: number;
  seconds?: number;
  /** `; X content written` (ostree >= 2020.5), X as printed by GLib, so rounded to its one decimal. */
  writtenBytes?: number;
  /** The summary text exactly as matched, for reports. */
  text: string;
}

// Terminal control sequences rpm-ostree's progress output uses when run on a tty (CSI and OSC).
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g;
const SIZE = String.raw`\d[\d.,]*[ \u00a0\u202f][A-Za-z]+`;
// Not anchored at line start: the summary shares its physical line with spinner and progress noise
// (the seed session has "⠉ Receiving objects; 99% ... 215.5 MB     1152 metadata, ..."). The
// look-behind keeps "215.5 MB 1152" from being read as a number that started earlier.
const SUMMARY = new RegExp(
  String.raw`(?<![\w.,])(?:(\d+) metadata, (\d+) content objects (fetched|imported)|(\d+) delta parts, (\d+) loose fetched)` +
    String.raw`(?: \((\d+) meta, (\d+) content local\))?` +
    String.raw`(?:; (\d+) (KiB|B) transferred in (\d+) seconds)?` +
    String.raw`(?:; (${SIZE}) content written)?`,
  'g',
);

/**
 * The last pull summary in `output`, or `undefined` when none was printed (an interrupted pull, a
 * progress-only log). A summary continued on its line by a part it does not understand (a truncated
 * `; 2444`, a future field) throws rather than returning the fields it did understand.
 */
export function parsePullSummary(output: string): PullSummary | undefined {
  const clean = output.replace(ANSI, '');
  const match = Array.from(clean.matchAll(SUMMARY)).at(-1);
  if (!match) return undefined;
  const end = (match.index ?? 0) + match[0].length;
  // What follows on the same line may be unrelated (a redrawn progress line, a stray quote), but a `;`,
  // `(` or `,` continues the summary grammar: a part we failed to match, so the whole line is suspect.
  const restOfLine = /^[^\n\r]*/.exec(clean.slice(end))?.[0] ?? '';
  if (/^\s*[;(,]/.test(restOfLine)) {
    throw new OutputParseError('ostree pull summary', match[0] + restOfLine, `unexpected ${JSON.stringify(restOfLine.trim())}`);
  }
  const [, metadata, content, verb, deltaParts, loose, localMeta, localContent, transferred, unit, seconds, written] = match;
  const summary: PullSummary = { text: match[0] };
  const int = (s: string | undefined): number | undefined => (s === undefined ? undefined : Number(s));
  if (metadata !== undefined) {
    summary.metadata = Number(metadata);
    summary.content = Number(content);
    if (verb === 'imported') summary.imported = true;
  } else {
    summary.deltaParts = Number(deltaParts);
    summary.loose = Number(loose);
  }
  if (localMeta !== undefined) {
    summary.localMetadata = Number(localMeta);
    summary.localContent = int(localContent);
  }
  if (transferred !== undefined) {
    summary.transferredBytes = Number(transferred) * (unit === 'KiB' ? 1024 : 1);
    summary.seconds = int(seconds);
  }
  if (written !== undefined) summary.writtenBytes = parseSize(written);
  return summary;
}
