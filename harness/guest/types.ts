import type { Deployment, LayerReport, ParsedRefs, PullSummary } from '../ostree/index.js';
import type { ExecResult } from '../ssh/index.js';
import type { GuestShell } from './ostree-driver.js';

/** What an update verb printed and did; the parsers' view of it is filled when the output has it. */
export interface UpdateResult {
  /** The command as run, its exit code and output. */
  result: ExecResult;
  ok: boolean;
  /** `layers already present: N; layers needed: M (size)` and the per-layer fetch lines. */
  layers?: LayerReport;
  /** ostree's `N metadata, M content objects fetched; K KiB transferred ...` line. */
  pull?: PullSummary;
}

/** What a scenario needs from the machine's update stack; one driver per target OS. */
export interface GuestDriver {
  readonly name: string;
  /** The shell its commands go through: `ostree refs` snapshots for the report use it too. */
  readonly shell: GuestShell;
  /** `ostree refs`, sorted into layers, images and the rest. */
  refs(): Promise<ParsedRefs>;
  /** The checksum of the commit the machine booted. */
  bootedCommit(): Promise<string>;
  /** A string metadata value of a commit in the guest's repo, or undefined if the key is absent. */
  commitMetadata(commit: string, key: string): Promise<string | undefined>;
}

/** A driver that can also update: the reference updater, or rpm-ostree on a real target. */
export interface UpdateDriver extends GuestDriver {
  /** `status --json`, parsed. */
  status(): Promise<Deployment[]>;
  booted(): Promise<Deployment>;
  staged(): Promise<Deployment | undefined>;
  /** Rebase to `target` (an `ostree-unverified-registry:` image or a `remote:ref`). Never throws on a failed update: check `ok`. */
  rebase(target: string): Promise<UpdateResult>;
  upgrade(): Promise<UpdateResult>;
  /** Drop the staged deployment. */
  cleanupPending(): Promise<UpdateResult>;
  /** Drop the rollback deployment (and with it whatever only it kept: layer refs its manifest named). */
  cleanupRollback(): Promise<UpdateResult>;
  /** Reboot into the default deployment and log in again (proven by a new boot id). */
  reboot(): Promise<void>;
}
