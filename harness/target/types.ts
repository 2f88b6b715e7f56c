import type { DiskDescription, DiskOptions } from '../disk/types.js';
import type { GuestMachine, UpdateDriver } from '../guest/index.js';
import type { OciImage } from '../oci/types.js';
import type { HostTool } from '../fixtures/host-packages.js';
import type { BootSpec, FwCfgEntry } from '../vm/types.js';
import type { TargetConfig } from './config.js';
import type { IgnitionConfig } from './ignition.js';

/** How a machine of a disk is provisioned and logged into, when it is not the reference way (root, no fw_cfg). */
export interface Provisioning {
  /** The login the harness authorized. @default 'root' */
  sshUser: string;
  /** fw_cfg entries: the Ignition config under `opt/com.coreos/config`. */
  fwCfg: readonly FwCfgEntry[];
  /** The Ignition config written to the fw_cfg file, for reports and the dry run. */
  ignition?: IgnitionConfig;
  /** @default 1024 (qemuArgs) */
  memoryMiB?: number;
}

/** What booting a disk needs: a `DiskDescription` is one, and a target may add provisioning. */
export interface BootableDisk {
  qcow2: string;
  boot: BootSpec;
  /** Pinned before the first login. */
  hostKey: string;
  provisioning?: Provisioning;
}

/** A disk a target offers to scenarios. */
export interface TargetDisk extends BootableDisk {
  /** Who made it: `reference`, `external: <command>`, or `E2E_DISK`. */
  builder: string;
  options: DiskOptions;
  qcow2Bytes: number;
  /** The image it was built from, when the target knows it (a bare `E2E_DISK` may not). */
  image?: DiskDescription['image'];
  /** Dry run only: the commands that would build this disk (it was not built). */
  plan?: readonly string[];
}

/**
 * What a scenario may need beyond a booted default disk:
 * - `{ disk: options }`: a disk variant (legacy, keep-merged), which needs a builder;
 * - `reference-content`: the reference image, its derived image and the ostree update commit, served to
 *   the guest (RegistryWorld, OstreeWorld); an external OS cannot update to the reference OS's content.
 */
export type TargetNeed = { disk: Partial<DiskOptions> } | 'reference-content';

/** The OS the scenarios run against: where disks come from, how machines are provisioned and driven. */
export interface Target {
  readonly config: TargetConfig;
  /** One line for logs and reports, e.g. `rpm-ostree (E2E_DISK=/srv/fcos.qcow2)`. */
  readonly description: string;
  /** Why this target cannot offer `need`, or undefined if it can. Scenarios skip with this reason. */
  whyNot(need: TargetNeed): string | undefined;
  /** A disk with `options` merged over the defaults (the default disk without options). */
  disk(options?: Partial<DiskOptions>): Promise<TargetDisk>;
  /** The image the default disk was built from, when known. */
  image(): Promise<OciImage | undefined>;
  /** The update driver of a booted machine of this target. */
  driver(machine: GuestMachine): UpdateDriver;
  /** Host tools and files a (non-dry) run of this target needs, as the preflight checks them. */
  hostRequirements(): { tools: readonly HostTool[]; files: ReadonlyArray<{ path: string; pkg: string }> };
}
