import { describe, expect, it } from 'vitest';
import { fakeGuest } from './fake-guest.js';
import { referenceUpdater } from './updater-driver.js';

const CSUM = 'a'.repeat(64);
// Printed by refos-update in its host tests (fixtures/reference-os/updater-tests), as the lead recorded it.
const REBASE_OUT = `Pulling manifest: ostree-unverified-registry:10.0.2.101:5000/refos:derived
Importing: ostree-unverified-registry:10.0.2.101:5000/refos:derived (digest: sha256:${'d'.repeat(64)})
layers already present: 12; layers needed: 1 (4.2\u00a0MB)
[0/1] Fetching layer sha256:${'b'.repeat(64)} (4.2\u00a0MB)... done
Writing merged commit... done
Staging deployment... done
Pruned container images: 0
Pruned container image layers: 0
Changes queued for next boot. Run "systemctl reboot" to start a reboot
`;
const STATUS = JSON.stringify({
  deployments: [
    { id: `refos-${CSUM}.0`, osname: 'refos', serial: 0, checksum: CSUM, booted: true, staged: false, pinned: false, origin: 'refos:refos/x86_64/stable' },
  ],
  transaction: null,
});

describe('UpdaterDriver (reference updater)', () => {
  it('reads the layer report of a rebase through the harness parsers', async () => {
    const { machine: shell } = fakeGuest({ 'refos-update rebase': { stdout: REBASE_OUT } });
    const update = await referenceUpdater(shell).rebase('ostree-unverified-registry:10.0.2.101:5000/refos:derived');
    expect(update.ok).toBe(true);
    expect(update.layers).toMatchObject({ present: 12, needed: 1, neededBytes: 4_200_000 });
    expect(update.pull).toBeUndefined();
  });

  it('reports a failed update without throwing', async () => {
    const { machine: shell } = fakeGuest({ 'refos-update rebase': { exitCode: 1, stderr: 'error: layer sha256:x: content digest mismatch' } });
    const update = await referenceUpdater(shell).rebase('ostree-unverified-registry:h/refos:derived');
    expect(update.ok).toBe(false);
    expect(update.result.stderr).toContain('digest mismatch');
  });

  it('takes the booted commit from status --json', async () => {
    const { machine: shell } = fakeGuest({ 'refos-update status --json': { stdout: STATUS } });
    const updater = referenceUpdater(shell);
    expect(await updater.bootedCommit()).toBe(CSUM);
    expect(await updater.staged()).toBeUndefined();
  });

  it('runs the negative control with layer GC switched off through the environment', async () => {
    const { machine: shell, seen } = fakeGuest({ 'refos-update upgrade': { stdout: 'No upgrade available.\n' } });
    await referenceUpdater(shell, { skipGc: true }).upgrade();
    expect(seen).toEqual(["env 'REFOS_UPDATE_SKIP_GC=1' refos-update upgrade"]);
  });

  it('drops the pending and the rollback deployment with rpm-ostree\'s cleanup flags', async () => {
    const { machine: shell, seen } = fakeGuest({ 'refos-update cleanup': { stdout: 'Pruned container image layers: 12\n' } });
    const updater = referenceUpdater(shell);
    expect((await updater.cleanupRollback()).ok).toBe(true);
    await updater.cleanupPending();
    expect(seen).toEqual(['refos-update cleanup -r', 'refos-update cleanup -p']);
  });
});
