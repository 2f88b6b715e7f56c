/**
 * What pruning the fixture cache removes, decided on a scan of it (harness/util/cache-prune.ts reads the
 * disk and deletes). Pure: a table in, a plan with a reason per entry out.
 */

/** One entry `<cache>/<kind>/<key>/` (a directory with a result.json), as scanned. */
export interface ScannedEntry {
  kind: string;
  key: string;
  /** Bytes allocated to its files, each inode once (a rootfs shares most of its inodes with its debian tree). */
  bytes: number;
  /** Its last-used stamp, or its result.json's mtime when it has none (epoch ms). */
  lastUsedMs: number;
  /** Why it must not be touched now (`locked by pid 12`, `open in pid 34`); absent when nothing holds it. */
  busy?: string;
  /** Entries (`kind/key`) it refers to: its result names their files, or its overlay is backed by their disk. */
  needs: readonly string[];
  /** Why it cannot work any more (the disk its overlay is backed by is gone); absent when whole. */
  broken?: string;
}

/** A `.building-<pid>` or `.pruning-<pid>` directory whose process is gone: half a build or half a removal. */
export interface StaleDir {
  path: string;
  kind: string;
  pid: number;
  bytes: number;
}

/** A remembered disk hash (`<cache>/hashes/*.json`) and the disk it is of. */
export interface HashMemo {
  file: string;
  disk: string;
  /** The entry (`kind/key`) the disk is in, when it is in the cache. */
  diskEntry?: string;
  diskExists: boolean;
}

export interface CacheScan {
  entries: readonly ScannedEntry[];
  staleDirs: readonly StaleDir[];
  memos: readonly HashMemo[];
}

export interface PrunePolicy {
  /** Entries used within this many ms are kept, whatever their kind. */
  recentMs: number;
  /** Beyond those, the most recently used entries kept per kind. */
  keepPerKind: Readonly<Record<string, number>>;
  /** The same for kinds not named in `keepPerKind`. */
  keepOther: number;
}

/**
 * Other worktrees, branches and agents on one host use other recipe versions (other keys) all day, and a
 * run uses the entries it resolved when it started for as long as it lasts: a day covers both.
 */
export const RECENT_MS = 24 * 60 * 60_000;

/**
 * One e2e run resolves one debian, rootfs, image, derived and update entry, four disks (default, legacy,
 * keep-merged, seed: bin/fixtures.ts) and saved states of three of them per machine shape (the rebase files:
 * default, legacy; the upgrade files: seed, default; bench adds its own). Keeping twice that is the current
 * version and the previous one, so that going back one commit or branch rebuilds nothing.
 */
export const DEFAULT_POLICY: PrunePolicy = {
  recentMs: RECENT_MS,
  keepPerKind: { debian: 2, rootfs: 2, image: 2, derived: 2, update: 2, disk: 8, 'saved-state': 8 },
  // Kinds this list does not know (the rpm-ostree target's image, disk and provisioning): a few, not all.
  keepOther: 4,
};

export interface Decision {
  entry: ScannedEntry;
  reason: string;
}

export interface PrunePlan {
  /** Least recently used first. */
  remove: Decision[];
  /** Most recently used first. */
  keep: Decision[];
  staleDirs: Array<StaleDir & { reason: string }>;
  memos: Array<HashMemo & { reason: string }>;
}

export const entryId = (entry: Pick<ScannedEntry, 'kind' | 'key'>): string => `${entry.kind}/${entry.key}`;

/**
 * Keep what is busy, what was used within `policy.recentMs`, the `keepPerKind` most recently used of each
 * kind and everything a kept entry needs; remove the rest, broken entries (unless busy) included. Stale
 * half-built directories always go; a remembered hash goes with its disk.
 */
export function planPrune(scan: CacheScan, policy: PrunePolicy, nowMs: number): PrunePlan {
  const kept = new Map<string, string>();
  const broken = new Map<string, string>();
  for (const entry of scan.entries) {
    const id = entryId(entry);
    const age = nowMs - entry.lastUsedMs;
    if (entry.busy) kept.set(id, `in use: ${entry.busy}`);
    else if (entry.broken) broken.set(id, `broken: ${entry.broken}`);
    else if (age <= policy.recentMs) kept.set(id, `used within ${formatAge(policy.recentMs)}`);
  }
  const byKind = new Map<string, ScannedEntry[]>();
  for (const entry of scan.entries) {
    if (!broken.has(entryId(entry))) byKind.set(entry.kind, [...(byKind.get(entry.kind) ?? []), entry]);
  }
  for (const [kind, entries] of byKind) {
    const limit = policy.keepPerKind[kind] ?? policy.keepOther;
    for (const entry of [...entries].sort(newestFirst).slice(0, limit)) {
      if (!kept.has(entryId(entry))) kept.set(entryId(entry), `one of the ${limit} most recently used of ${kind}`);
    }
  }
  // What a kept entry needs stays, even beyond its kind's limit or broken: removing it would break the keeper.
  const byId = new Map(scan.entries.map((e) => [entryId(e), e]));
  const pending = [...kept.keys()];
  for (let id = pending.pop(); id !== undefined; id = pending.pop()) {
    for (const need of byId.get(id)?.needs ?? []) {
      if (byId.has(need) && !kept.has(need)) {
        kept.set(need, `needed by ${id}`);
        pending.push(need);
      }
    }
  }
  const remove: Decision[] = [];
  const keep: Decision[] = [];
  for (const entry of [...scan.entries].sort(newestFirst)) {
    const id = entryId(entry);
    const keepReason = kept.get(id);
    if (keepReason) keep.push({ entry, reason: keepReason });
    else {
      const limit = policy.keepPerKind[entry.kind] ?? policy.keepOther;
      remove.push({ entry, reason: broken.get(id) ?? `unused for ${formatAge(nowMs - entry.lastUsedMs)}, beyond the ${limit} most recently used of ${entry.kind}` });
    }
  }
  remove.reverse();
  const removed = new Set(remove.map((d) => entryId(d.entry)));
  const memos = scan.memos.flatMap((memo) => {
    if (!memo.diskExists) return [{ ...memo, reason: 'its disk is gone' }];
    if (memo.diskEntry && removed.has(memo.diskEntry)) return [{ ...memo, reason: `its disk goes with ${memo.diskEntry}` }];
    return [];
  });
  const staleDirs = scan.staleDirs.map((dir) => ({ ...dir, reason: `left by pid ${dir.pid}, which is gone` }));
  return { remove, keep, staleDirs, memos };
}

/** The files of one entry by inode (`dev:ino`): bytes allocated, links in all, links inside the entry. */
export type InodeTable = ReadonlyMap<string, { bytes: number; nlink: number; links: number }>;

/**
 * Bytes that removing these entries gives back: an inode's blocks are freed only when every one of its
 * links is among them (a rootfs is hard links into its debian tree: removing it alone frees little).
 */
export function freedBytes(tables: Iterable<InodeTable>): number {
  const links = new Map<string, { bytes: number; nlink: number; links: number }>();
  for (const table of tables) {
    for (const [inode, file] of table) {
      const seen = links.get(inode);
      links.set(inode, { ...file, links: (seen?.links ?? 0) + file.links });
    }
  }
  let freed = 0;
  for (const file of links.values()) if (file.links >= file.nlink) freed += file.bytes;
  return freed;
}

function newestFirst(a: ScannedEntry, b: ScannedEntry): number {
  return b.lastUsedMs - a.lastUsedMs || (entryId(a) < entryId(b) ? -1 : 1);
}

/** `45s`, `12m`, `5h`, `3d`: how long ago, to the unit that matters. */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 48 * 3600) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

/** `512 B`, `3.4 MiB`, `12.1 GiB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}
