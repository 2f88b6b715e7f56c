import { OutputParseError } from './errors.js';
import { parseSize } from './size.js';

/** One `Fetching ostree chunk|layer <id> (<size>)` line. */
export interface FetchedLayer {
  /** As printed: a short digest, `sha256:d123e54628bf` (before 2024) or `597ed862bdf6f78f2ed` (after). */
  id: string;
  bytes: number;
}

/**
 * The layer accounting a container pull prints, in any of its eras. Chunk ("ostree chunk") and derived
 * ("custom") layers are summed. Sizes are GLib's one-decimal renderings, so `neededBytes` and each
 * `fetched[].bytes` are within 0.05 of a unit of the truth, not exact.
 */
export interface LayerReport {
  present: number;
  needed: number;
  neededBytes: number;
  /** Layers whose fetch started, in order; each id once (a redrawn progress line repeats it). */
  fetched: FetchedLayer[];
}

const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g;
// ostree-rs-ext store.rs `format_layer_status`, printed by bootc and `ostree container image pull`.
// The look-behind keeps rpm-ostree's "ostree chunk layers already present: N" out of it.
const EXT_SUMMARY = /(?<!chunk |custom )layers already present: (\d+); layers needed: (\d+) \(([^)]*)\)/;
// rpm-ostree sysroot_upgrade.rs before commit ca85c394 (v2023.4): one line per kind.
const RPMOSTREE_STORED = /(ostree chunk|custom) layers stored: (\d+) needed: (\d+) \(([^)]*)\)/;
// rpm-ostree since v2023.4: each half printed only when non-zero.
const RPMOSTREE_PRESENT = /(ostree chunk|custom) layers already present: (\d+)\s*$/;
const RPMOSTREE_NEEDED = /(ostree chunk|custom) layers needed: (\d+) \(([^)]*)\)\s*$/;
// Any line mentioning these words must match one of the above, or the report would silently miss it.
const SUMMARY_WORDS = /layers (?:already present|stored|needed)/;
// ostree-rs-ext cli.rs `layer_progress_format`, with rpm-ostree's optional "[i/N] " in front.
const FETCHING = /Fetching (?:ostree chunk|layer) (\S+) \(([^)]*)\)/;

interface Block {
  present: number;
  needed: number;
  neededBytes: number;
  fetched: FetchedLayer[];
  /** Which summary lines this block has seen, so a repeated one starts the next pull's block. */
  seen: Set<string>;
}

const newBlock = (): Block => ({ present: 0, needed: 0, neededBytes: 0, fetched: [], seen: new Set() });

/**
 * The layer report of the last container pull in `output` (one rpm-ostree/bootc run may print several,
 * e.g. `upgrade --check` then `upgrade`), or `undefined` if no pull printed a summary.
 */
export function parseLayerReport(output: string): LayerReport | undefined {
  const lines = output.replace(ANSI, '').split(/\r?\n|\r/);
  const blocks: Block[] = [];
  let current: Block | undefined;
  // Start a new block when this pull's block already has the line: the text belongs to a later pull.
  const blockFor = (key: string): Block => {
    if (!current || current.seen.has(key) || current.seen.has('ext') || key === 'ext') {
      current = newBlock();
      blocks.push(current);
    }
    current.seen.add(key);
    return current;
  };
  const size = (line: string, printed: string | undefined): number => {
    try {
      return parseSize(printed ?? '');
    } catch (cause) {
      throw new OutputParseError('layer report', line, `size ${JSON.stringify(printed)}`, { cause });
    }
  };

  for (const line of lines) {
    // rpm-ostree announces each pull; whatever follows belongs to that pull (journal prefixes allowed).
    if (/(?:Pulling manifest|Importing): /.test(line)) current = undefined;
    let m: RegExpExecArray | null;
    if ((m = EXT_SUMMARY.exec(line))) {
      const b = blockFor('ext');
      b.present += Number(m[1]);
      b.needed += Number(m[2]);
      b.neededBytes += size(line, m[3]);
    } else if ((m = RPMOSTREE_STORED.exec(line))) {
      const b = blockFor(`${m[1]} stored`);
      b.present += Number(m[2]);
      b.needed += Number(m[3]);
      b.neededBytes += size(line, m[4]);
    } else if ((m = RPMOSTREE_PRESENT.exec(line))) {
      blockFor(`${m[1]} present`).present += Number(m[2]);
    } else if ((m = RPMOSTREE_NEEDED.exec(line))) {
      const b = blockFor(`${m[1]} needed`);
      b.needed += Number(m[2]);
      b.neededBytes += size(line, m[3]);
    } else if (SUMMARY_WORDS.test(line)) {
      throw new OutputParseError('layer report', line, 'a layer count line in no known format');
    } else if ((m = FETCHING.exec(line)) && current) {
      const [, id = '', printed] = m;
      // A size cut off by the terminal ("(307.9") does not match FETCHING at all and is skipped;
      // the same layer's complete line, when there is one, is what counts.
      if (!current.fetched.some((f) => f.id === id)) current.fetched.push({ id, bytes: size(line, printed) });
    }
  }
  const last = blocks.at(-1);
  if (!last) return undefined;
  return { present: last.present, needed: last.needed, neededBytes: last.neededBytes, fetched: last.fetched };
}
