/**
 * The disks that show create-disk.e2e.ts's assertions can fail: the legacy disk (before coreos-assembler
 * PR 3359) has no layer refs, the keep-merged disk still has the merged image ref. They are about what
 * the builder wrote, not about booting (create-disk.e2e.ts boots for real), so each starts from its disk's
 * saved state: its first use boots the disk once, later runs restore in ~1 s instead of booting for ~10 s.
 * Runs on every target with a builder (skipped for a finished E2E_DISK: one disk has no variants).
 */
import { describe, expect } from 'vitest';
import { scenario, snapshotRefs } from '../harness/testing.js';

describe('create-disk-variants', () => {
  scenario('legacy disk (before the seed PR): no layer refs at all', async ({ disk, boot, driver }) => {
    const legacy = await disk({ layerRefs: 'drop' });
    const machine = await boot(legacy, 'create-legacy', { from: 'saved-state' });
    const guest = driver(machine);

    const refs = await snapshotRefs(guest.shell, 'booted legacy disk');
    expect(refs.layers).toEqual([]);
    expect(refs.images).toEqual([]);
    // The deployed commit is the same merged commit: only the refs differ.
    expect(await guest.commitMetadata(await guest.bootedCommit(), 'ostree.manifest-digest')).toBe(legacy.image?.manifestDigest);
  });

  scenario('keep-merged disk: the merged image ref is there', async ({ disk, boot, driver }) => {
    const merged = await disk({ mergedRef: 'keep' });
    const machine = await boot(merged, 'create-keep-merged', { from: 'saved-state' });
    const refs = await snapshotRefs(driver(machine).shell, 'booted keep-merged disk');
    expect(refs.images).toEqual([merged.image?.reference]);
    expect([...refs.layers].sort()).toEqual([...(merged.image?.layers ?? [])].sort());
  });
});
