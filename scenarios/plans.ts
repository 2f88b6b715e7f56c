/**
 * What each scenario boots and asks of its guests, as data: `npm run e2e -- --dry-run` prints it for the
 * configured target (qemu command lines, Ignition config, the driver's guest commands) without booting.
 * harness/target/plans.test.ts fails when a scenario of scenarios/*.e2e.ts has no plan here, or a plan
 * names a machine its file does not boot: keep both in step when a scenario changes.
 */
import type { ScenarioPlan } from '../harness/target/plan.js';

const readImageOfBootedCommit = ['refs', 'bootedCommit', { commitMetadata: 'ostree.manifest-digest' }, { commitMetadata: 'ostree.manifest' }] as const;

export const SCENARIO_PLANS: readonly ScenarioPlan[] = [
  {
    file: 'create-disk.e2e.ts',
    title: 'default disk: one layer ref per image layer, no merged image ref',
    machines: [{ name: 'create-default', steps: readImageOfBootedCommit }],
  },
  {
    file: 'create-disk-variants.e2e.ts',
    title: 'legacy disk (before the seed PR): no layer refs at all',
    machines: [{ name: 'create-legacy', disk: { layerRefs: 'drop' }, steps: ['refs', 'bootedCommit', { commitMetadata: 'ostree.manifest-digest' }] }],
  },
  {
    file: 'create-disk-variants.e2e.ts',
    title: 'keep-merged disk: the merged image ref is there',
    machines: [{ name: 'create-keep-merged', disk: { mergedRef: 'keep' }, steps: ['refs'] }],
  },
  {
    file: 'rebase-derived.e2e.ts',
    title: 'default disk: only the layer the disk lacked crosses the wire',
    needs: ['reference-content'],
    machines: [{
      name: 'rebase-default',
      forwards: ['registry'],
      steps: ['refs', { rebase: 'derived-image' }, 'refs', 'status', 'reboot', 'status', { run: ['layercheck-derived'] }, 'refs'],
    }],
  },
  {
    file: 'rebase-legacy.e2e.ts',
    title: 'legacy disk: without layer refs the same rebase downloads every layer',
    needs: ['reference-content'],
    machines: [{ name: 'rebase-legacy', disk: { layerRefs: 'drop' }, forwards: ['registry'], steps: ['refs', { rebase: 'derived-image' }] }],
  },
  {
    file: 'rebase-derived.e2e.ts',
    title: 'a registry that dies mid-pull: a clear error, nothing staged, the machine boots what it had',
    needs: ['reference-content'],
    machines: [{ name: 'rebase-registry-dies', forwards: ['registry'], steps: ['bootedCommit', { rebase: 'derived-image' }, 'status', 'refs', 'reboot', 'bootedCommit'] }],
  },
  {
    file: 'rebase-derived.e2e.ts',
    title: 'a blob that does not match its digest fails the rebase, naming the digest',
    needs: ['reference-content'],
    machines: [{ name: 'rebase-bad-blob', forwards: ['registry'], steps: [{ rebase: 'derived-image' }, 'status', 'refs', { run: ['ostree', 'rev-parse', 'ostree/container/blob/<the derived layer>'] }] }],
  },
  {
    file: 'upgrade-prunes.e2e.ts',
    title: 'seed disk: upgrade to a plain commit prunes every layer ref at staging and fetches only what changed',
    needs: ['reference-content'],
    machines: [{
      name: 'upgrade-seed',
      disk: { deployedCommit: 'ostree' },
      forwards: ['ostree'],
      steps: ['refs', 'status', { commitMetadata: 'ostree.manifest-digest' }, 'upgrade', 'status', 'refs', 'reboot', 'bootedCommit', { run: ['layercheck-update'] }, 'refs'],
    }],
  },
  {
    file: 'upgrade-prunes.e2e.ts',
    title: 'negative control: with layer GC off the same check fails, listing the leftover layer refs',
    needs: ['reference-content'],
    machines: [{ name: 'upgrade-seed-no-gc', disk: { deployedCommit: 'ostree' }, forwards: ['ostree'], steps: ['upgrade', 'refs'] }],
  },
  {
    file: 'upgrade-from-derived.e2e.ts',
    title: 'via the derived image and back to the ostree ref: layer refs go with the last deployment that names them',
    needs: ['reference-content'],
    machines: [{
      name: 'upgrade-from-derived',
      forwards: ['ostree', 'registry'],
      steps: [{ rebase: 'derived-image' }, 'reboot', 'status', { rebase: 'ostree-update' }, 'status', 'refs', 'reboot', 'bootedCommit', 'refs', 'cleanupRollback', 'refs'],
    }],
  },
  {
    file: 'saved-state.e2e.ts',
    title: 'a restored machine is the default disk booted, on new ports, and reboots for real',
    needs: ['reference-content'],
    machines: [{ name: 'saved-restore', steps: ['bootedCommit', { run: ['curl', '-sS', '--max-time', '20', 'http://10.0.2.100:8080/'] }, { run: ['date', '+%s'] }, 'reboot', 'bootedCommit'] }],
  },
];
