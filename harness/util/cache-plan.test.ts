import { describe, expect, test } from 'vitest';
import { type CacheScan, DEFAULT_POLICY, type PrunePolicy, type ScannedEntry, formatAge, formatBytes, freedBytes, planPrune } from './cache-plan.js';

const NOW = Date.parse('2026-12-01T12:00:00Z');
const HOUR = 3_600_000;
const policy: PrunePolicy = { recentMs: 24 * HOUR, keepPerKind: { debian: 1, disk: 2 }, keepOther: 1 };

/** An entry last used `hoursAgo` hours before NOW. */
function entry(id: string, hoursAgo: number, extra: Partial<ScannedEntry> = {}): ScannedEntry {
  const [kind = '', key = ''] = id.split('/');
  return { kind, key, bytes: 100, lastUsedMs: NOW - hoursAgo * HOUR, needs: [], ...extra };
}

function plan(entries: ScannedEntry[], rest: Partial<CacheScan> = {}) {
  const result = planPrune({ entries, staleDirs: [], memos: [], ...rest }, policy, NOW);
  return {
    remove: result.remove.map((d) => `${d.entry.kind}/${d.entry.key}: ${d.reason}`),
    keep: result.keep.map((d) => `${d.entry.kind}/${d.entry.key}: ${d.reason}`),
    memos: result.memos.map((m) => `${m.file}: ${m.reason}`),
    staleDirs: result.staleDirs.map((d) => `${d.path}: ${d.reason}`),
  };
}

describe('planPrune', () => {
  test.each([
    {
      name: 'everything used within the window stays, whatever the limit',
      entries: [entry('debian/a', 1), entry('debian/b', 5), entry('debian/c', 23)],
      remove: [],
    },
    {
      name: 'beyond the window, the most recent per kind stay and the rest go, least recently used first',
      entries: [entry('debian/a', 30), entry('debian/b', 100), entry('debian/c', 50), entry('disk/x', 40), entry('disk/y', 60), entry('disk/z', 80)],
      remove: ['debian/b: unused for 4d, beyond the 1 most recently used of debian', 'disk/z: unused for 3d, beyond the 2 most recently used of disk', 'debian/c: unused for 2d, beyond the 1 most recently used of debian'],
    },
    {
      name: 'recent entries count toward the limit: an old one goes when enough recent ones exist',
      entries: [entry('disk/x', 1), entry('disk/y', 2), entry('disk/z', 30)],
      remove: ['disk/z: unused for 30h, beyond the 2 most recently used of disk'],
    },
    {
      name: 'kinds the policy does not name get keepOther',
      entries: [entry('rpm-ostree-disk/a', 30), entry('rpm-ostree-disk/b', 40)],
      remove: ['rpm-ostree-disk/b: unused for 40h, beyond the 1 most recently used of rpm-ostree-disk'],
    },
    {
      name: 'a busy entry stays however old',
      entries: [entry('debian/a', 30), entry('debian/b', 300, { busy: 'locked by pid 7' })],
      remove: [],
    },
    {
      name: 'a broken entry goes even when recent, and does not take a place in its kind',
      entries: [entry('saved-state/s', 1, { broken: 'backing disk /c/disk/gone/disk.qcow2 is gone' }), entry('saved-state/t', 30)],
      remove: ['saved-state/s: broken: backing disk /c/disk/gone/disk.qcow2 is gone'],
    },
    {
      name: 'a busy broken entry stays',
      entries: [entry('saved-state/s', 1, { broken: 'gone', busy: 'open in pid 9' })],
      remove: [],
    },
    {
      name: 'what a kept entry needs stays beyond its kind\'s limit, transitively',
      entries: [entry('saved-state/s', 1, { needs: ['disk/old'] }), entry('disk/old', 90, { needs: ['image/i'] }), entry('disk/x', 30), entry('disk/y', 31), entry('image/i', 200), entry('image/j', 100)],
      remove: [],
    },
    {
      name: 'what only removed entries need goes with them',
      entries: [entry('saved-state/s', 1), entry('saved-state/old', 90, { needs: ['disk/old'] }), entry('disk/x', 30), entry('disk/y', 31), entry('disk/old', 95)],
      remove: ['disk/old: unused for 3d, beyond the 2 most recently used of disk', 'saved-state/old: unused for 3d, beyond the 1 most recently used of saved-state'],
    },
    {
      name: 'a need naming no scanned entry changes nothing',
      entries: [entry('disk/x', 30, { needs: ['image/missing'] })],
      remove: [],
    },
  ])('$name', ({ entries, remove }) => {
    const result = plan(entries);
    expect(result.remove).toEqual(remove);
    expect(result.keep).toHaveLength(entries.length - remove.length);
  });

  test('every kept entry says why', () => {
    const { keep } = plan([entry('debian/a', 2), entry('debian/b', 30, { busy: 'locked by pid 7' }), entry('disk/x', 30), entry('image/i', 40), entry('saved-state/s', 50, { needs: ['image/j'] }), entry('image/j', 60)]);
    expect(keep).toEqual([
      'debian/a: used within 24h',
      'debian/b: in use: locked by pid 7',
      'disk/x: one of the 2 most recently used of disk',
      'image/i: one of the 1 most recently used of image',
      'saved-state/s: one of the 1 most recently used of saved-state',
      'image/j: needed by saved-state/s',
    ]);
  });

  test('a remembered hash goes when its disk is gone or pruned, and stays with a kept disk', () => {
    const { memos } = plan([entry('disk/x', 30), entry('disk/y', 31), entry('disk/z', 90)], {
      memos: [
        { file: 'h/1.json', disk: '/c/disk/x/disk.qcow2', diskEntry: 'disk/x', diskExists: true },
        { file: 'h/2.json', disk: '/c/disk/z/disk.qcow2', diskEntry: 'disk/z', diskExists: true },
        { file: 'h/3.json', disk: '/c/disk/w/disk.qcow2', diskEntry: 'disk/w', diskExists: false },
        { file: 'h/4.json', disk: '/srv/user.qcow2', diskExists: true },
      ],
    });
    expect(memos).toEqual(['h/2.json: its disk goes with disk/z', 'h/3.json: its disk is gone']);
  });

  test('stale half-built directories always go', () => {
    const { staleDirs } = plan([], { staleDirs: [{ path: '/c/disk/x.building-77', kind: 'disk', pid: 77, bytes: 5 }] });
    expect(staleDirs).toEqual(['/c/disk/x.building-77: left by pid 77, which is gone']);
  });

  test('the default policy keeps a run\'s worth of each kind twice over', () => {
    const disks = Array.from({ length: 12 }, (_, i) => entry(`disk/d${String(i).padStart(2, '0')}`, 30 + i));
    const result = planPrune({ entries: disks, staleDirs: [], memos: [] }, DEFAULT_POLICY, NOW);
    expect(result.keep.map((d) => d.entry.key)).toEqual(['d00', 'd01', 'd02', 'd03', 'd04', 'd05', 'd06', 'd07']);
    expect(result.remove.map((d) => d.entry.key)).toEqual(['d11', 'd10', 'd09', 'd08']);
  });
});

describe('freedBytes', () => {
  const table = (...rows: Array<[string, number, number, number]>) => new Map(rows.map(([inode, bytes, nlink, links]) => [inode, { bytes, nlink, links }]));

  test.each([
    { name: 'files linked nowhere else are freed', tables: [table(['1:1', 100, 1, 1], ['1:2', 50, 2, 2])], freed: 150 },
    { name: 'a file also linked from a kept entry is not', tables: [table(['1:1', 100, 2, 1], ['1:2', 50, 1, 1])], freed: 50 },
    { name: 'a file whose links are all in removed entries is, once', tables: [table(['1:1', 100, 2, 1]), table(['1:1', 100, 2, 1])], freed: 100 },
    { name: 'nothing removed frees nothing', tables: [], freed: 0 },
  ])('$name', ({ tables, freed }) => {
    expect(freedBytes(tables)).toBe(freed);
  });
});

test.each([
  [0, '0s'], [59_000, '59s'], [61_000, '1m'], [5 * HOUR, '5h'], [47 * HOUR, '47h'], [49 * HOUR, '2d'],
])('formatAge(%i) is %s', (ms, text) => {
  expect(formatAge(ms)).toBe(text);
});

test.each([
  [512, '512 B'], [1536, '1.5 KiB'], [750 * 2 ** 20, '750.0 MiB'], [12.1 * 2 ** 30, '12.1 GiB'],
])('formatBytes(%i) is %s', (bytes, text) => {
  expect(formatBytes(bytes)).toBe(text);
});
