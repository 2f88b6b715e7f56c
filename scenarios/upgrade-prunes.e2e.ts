/**
 * The seed's second promise: when the system updates to a plain ostree commit, the layer refs it no
 * longer needs are garbage-collected, and the pull fetches only the objects that changed. rpm-ostree
 * broke the pruning in v2023.8 to v2023.11 and nobody noticed; the negative control below shows this
 * scenario would have. Layer GC follows ostree-rs-ext: a layer stays while an image ref or a deployed
 * commit carrying `ostree.manifest-digest` names it, so the seed disk (plain commit deployed, as Fedora
 * CoreOS shipped) loses its layer refs at once, and a container deployment keeps them until it is gone.
 * Needs the reference OS content (the update commit is built on the reference image): skipped elsewhere.
 */
import { describe, expect } from 'vitest';
import { assertNoContainerRefs } from '../harness/checks.js';
import { SEED_DISK_OPTIONS } from '../harness/disk/index.js';
import { repoObjectBytes } from '../harness/fixtures/commit-diff.js';
import { referenceImage } from '../harness/fixtures/index.js';
import { UPDATE_VERSION } from '../harness/fixtures/update-commit.js';
import { referenceUpdater } from '../harness/guest/index.js';
import { layerRef } from '../harness/ostree/index.js';
import { AssertionFailure } from '../harness/ssh/errors.js';
import { attachCommandOutput, attachProxyRequests, scenario, snapshotRefs, worldsForFile } from '../harness/testing.js';
import { OstreeWorld } from '../harness/worlds.js';

/**
 * Upper bound of the pull as a multiple of (changed file bytes + new metadata objects). The content objects
 * are zlib streams with a small header (at most a few percent over the raw bytes for incompressible data),
 * and the only other bodies are the repo's `config` and `summary` (a few hundred bytes), so 1.25 leaves room
 * for those and nothing else: refetching even one unchanged directory's files would break it.
 */
const PULL_BOUND_FACTOR = 1.25;

describe('upgrade-prunes', () => {
  let ostreeWorld!: OstreeWorld;
  worldsForFile(async (keep) => {
    ostreeWorld = keep(await OstreeWorld.start());
  });

  scenario('seed disk: upgrade to a plain commit prunes every layer ref at staging and fetches only what changed', async ({ needs, disk, boot, driver, metric }) => {
    needs('reference-content');
    const { image } = await referenceImage();
    const machine = await boot(await disk(SEED_DISK_OPTIONS), 'upgrade-seed', { from: 'saved-state', guestfwds: [ostreeWorld.guestfwd] });
    const updater = driver(machine);

    const before = await snapshotRefs(machine, 'before upgrade');
    expect(before.layers.sort()).toEqual(image.manifest.layers.map((l) => l.digest).sort());
    const booted = await updater.booted();
    expect(booted.origin).toBe(ostreeWorld.refspec);
    expect(await updater.commitMetadata(booted.checksum, 'ostree.manifest-digest')).toBeUndefined();

    ostreeWorld.proxy.reset();
    const started = performance.now();
    const update = await updater.upgrade();
    const upgradeMs = performance.now() - started;
    await attachCommandOutput('updater: upgrade', update.result);
    await attachProxyRequests('ostree requests of the upgrade', ostreeWorld.proxy);
    expect(update.ok, update.result.stderr).toBe(true);
    expect((await updater.staged())?.checksum).toBe(ostreeWorld.update.commit);
    assertNoContainerRefs(machine.name, await snapshotRefs(machine, 'right after staging'), 'right after staging');

    // The wire: exactly the objects the machine lacked, each whole, and nothing else of size.
    const expected = new Map(ostreeWorld.objectsToFetch.map((o) => [o.object, o.bytes]));
    expect(ostreeWorld.proxy.bytesByOstreeObject()).toEqual(expected);
    const floor = [...expected.values()].reduce((n, b) => n + b, 0);
    const metadataBytes = ostreeWorld.objectsToFetch.filter((o) => !o.object.endsWith('.filez')).reduce((n, o) => n + o.bytes, 0);
    const measured = ostreeWorld.proxy.totalBytes();
    expect(measured).toBeLessThanOrEqual(PULL_BOUND_FACTOR * (ostreeWorld.update.changedBytes + metadataBytes));
    const repoBytes = await repoObjectBytes(ostreeWorld.update.repo);
    expect(measured).toBeLessThan(repoBytes / 100);
    // ostree's own account: whole KiB, floored, so within 1 KiB (+1 % for what it may count differently).
    const transferred = update.pull?.transferredBytes;
    expect(transferred, `no pull summary in:\n${update.result.stdout}`).toBeTypeOf('number');
    expect(Math.abs(measured - (transferred ?? 0))).toBeLessThanOrEqual(1024 + measured * 0.01);

    await updater.reboot();
    expect(await updater.bootedCommit()).toBe(ostreeWorld.update.commit);
    expect((await machine.succeed(['layercheck-update'])).trim()).toBe(`layercheck ostree update ${UPDATE_VERSION}`);
    assertNoContainerRefs(machine.name, await snapshotRefs(machine, 'after reboot'), 'after the reboot');

    metric('upgrade.commit.bytes', measured, 'bytes');
    metric('upgrade.commit.floor.bytes', floor, 'bytes');
    metric('upgrade.commit.repo.bytes', repoBytes, 'bytes');
    metric('upgrade.commit.ms', upgradeMs, 'ms');
  });

  scenario('negative control: with layer GC off the same check fails, listing the leftover layer refs', async ({ needs, disk, boot }) => {
    needs('reference-content');
    const layers = (await referenceImage()).image.manifest.layers.map((l) => l.digest);
    const machine = await boot(await disk(SEED_DISK_OPTIONS), 'upgrade-seed-no-gc', { from: 'saved-state', guestfwds: [ostreeWorld.guestfwd] });
    // The reference updater's test-only switch: what rpm-ostree v2023.8 to v2023.11 did by accident.
    const updater = referenceUpdater(machine, { skipGc: true });

    const update = await updater.upgrade();
    await attachCommandOutput('updater (layer GC off): upgrade', update.result);
    expect(update.ok, update.result.stderr).toBe(true);
    const refs = await snapshotRefs(machine, 'right after staging, GC off');
    expect(refs.layers).toHaveLength(layers.length);

    let failure: unknown;
    try {
      assertNoContainerRefs(machine.name, refs, 'right after staging');
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(AssertionFailure);
    const message = (failure as Error).message;
    for (const digest of layers) expect(message).toContain(layerRef(digest));
  });
});
