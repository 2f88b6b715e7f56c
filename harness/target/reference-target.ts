import { ExternalDiskBuilder } from '../disk/index.js';
import { HOST_TOOLS } from '../fixtures/host-packages.js';
import { referenceDisk, referenceImage } from '../fixtures/reference.js';
import { type GuestMachine, type UpdateDriver, referenceUpdater } from '../guest/index.js';
import type { OciImage } from '../oci/types.js';
import type { TargetConfig } from './config.js';
import { OVMF, firmwareFor } from './firmware.js';
import type { Target, TargetDisk } from './types.js';

/**
 * The embedded default: the reference OS image, its disks from the reference builder (or from the user's
 * `E2E_BUILDER`, fed the same image), driven by `refos-update`. It offers every disk variant and content.
 */
export class ReferenceTarget implements Target {
  constructor(readonly config: TargetConfig) {}

  get description(): string {
    return this.config.builder === undefined ? 'reference OS, reference disk builder' : `reference OS, disks built by \`${this.config.builder}\``;
  }

  whyNot(): undefined {
    return undefined;
  }

  async disk(options: Parameters<Target['disk']>[0] = {}): Promise<TargetDisk> {
    const builder = this.config.builder === undefined ? undefined : new ExternalDiskBuilder(this.config.builder);
    const { disk } = await referenceDisk(options, builder);
    // A user's disk without boot.json boots through firmware: the one E2E_FIRMWARE chose.
    return disk.boot.kind === 'firmware' ? { ...disk, boot: { kind: 'firmware', firmware: firmwareFor(this.config.firmware) } } : disk;
  }

  async image(): Promise<OciImage> {
    return (await referenceImage()).image;
  }

  driver(machine: GuestMachine): UpdateDriver {
    return referenceUpdater(machine);
  }

  hostRequirements(): ReturnType<Target['hostRequirements']> {
    return { tools: HOST_TOOLS, files: this.config.firmware === 'uefi' ? [{ path: OVMF.code, pkg: OVMF.pkg }, { path: OVMF.vars, pkg: OVMF.pkg }] : [] };
  }
}
