/**
 * Layer refs outlive a container deployment exactly as long as ostree-rs-ext says: rebased to the derived
 * image and then back to the plain ostree ref, the machine keeps the derived image's layers while that
 * deployment is the rollback, and loses them with it. The seed disk's upgrade (upgrade-prunes.e2e.ts)
 * shows the other half. Its own file because it is the longest scenario (two rebases, two reboots): the
 * suite packs files, not scenarios, into its parallel workers.
 * Needs the reference OS content (the update commit and the derived image are built on the reference
 * image): skipped elsewhere.
 */
import { describe, expect } from 'vitest';
import { assertNoContainerRefs } from '../harness/checks.js';
import { attachCommandOutput, scenario, snapshotRefs, worldsForFile } from '../harness/testing.js';
import { OstreeWorld, RegistryWorld } from '../harness/worlds.js';

describe('upgrade-from-derived', () => {
  let ostreeWorld!: OstreeWorld;
  let registryWorld!: RegistryWorld;
  worldsForFile(async (keep) => {
    ostreeWorld = keep(await OstreeWorld.start());
    registryWorld = keep(await RegistryWorld.start());
  });

  scenario('via the derived image and back to the ostree ref: layer refs go with the last deployment that names them', async ({ needs, disk, boot, driver }) => {
    needs('reference-content');
    const machine = await boot(await disk(), 'upgrade-from-derived', { from: 'saved-state', guestfwds: [ostreeWorld.guestfwd, registryWorld.guestfwd] });
    const updater = driver(machine);
    const derivedLayers = registryWorld.derived.image.manifest.layers.map((l) => l.digest).sort();

    const toImage = await updater.rebase(registryWorld.guestImage('derived'));
    await attachCommandOutput('updater: rebase to the derived image', toImage.result);
    expect(toImage.ok, toImage.result.stderr).toBe(true);
    await updater.reboot();
    expect((await updater.booted()).containerImageDigest).toBe(registryWorld.derived.image.manifestDigest);

    const toOstree = await updater.rebase(ostreeWorld.refspec);
    await attachCommandOutput('updater: rebase to the ostree ref', toOstree.result);
    expect(toOstree.ok, toOstree.result.stderr).toBe(true);
    expect((await updater.staged())?.checksum).toBe(ostreeWorld.update.commit);
    // The booted container deployment still names its layers: ostree-rs-ext keeps them, as it must.
    expect((await snapshotRefs(machine, 'right after staging')).layers.sort()).toEqual(derivedLayers);

    await updater.reboot();
    expect(await updater.bootedCommit()).toBe(ostreeWorld.update.commit);
    expect((await snapshotRefs(machine, 'after reboot (derived is the rollback)')).layers.sort()).toEqual(derivedLayers);

    const cleanup = await updater.cleanupRollback();
    await attachCommandOutput('updater: cleanup -r', cleanup.result);
    expect(cleanup.ok, cleanup.result.stderr).toBe(true);
    assertNoContainerRefs(machine.name, await snapshotRefs(machine, 'after removing the rollback'), 'after removing the rollback');
  });
});
