import type { DiskOptions } from '../disk/types.js';
import type { TargetNeed } from './types.js';

/** One thing a scenario asks of a machine's driver, as data (kola's "a test is data"). */
export type GuestStep =
  | 'refs'
  | 'status'
  | 'bootedCommit'
  | 'upgrade'
  | 'cleanupPending'
  | 'cleanupRollback'
  | 'reboot'
  | { commitMetadata: string }
  | { rebase: 'derived-image' | 'ostree-update' }
  /** A plain command run through the driver's shell. */
  | { run: readonly string[] };

export interface MachinePlan {
  /** The name the scenario boots it under (the dry run and the plan test look for it in the file). */
  name: string;
  /** The disk variant; the default disk without. */
  disk?: Partial<DiskOptions>;
  /** Content servers the guest reaches through guestfwd. */
  forwards?: ReadonlyArray<'registry' | 'ostree'>;
  steps: readonly GuestStep[];
}

/** What one scenario (one test) boots and asks of its guests; the dry run prints it per target. */
export interface ScenarioPlan {
  /** File under scenarios/, e.g. `create-disk.e2e.ts`. */
  file: string;
  /** The test title, exactly as in the file. */
  title: string;
  needs?: readonly TargetNeed[];
  machines: readonly MachinePlan[];
}
