import type { OciImage } from '../oci/types.js';
import type { BootSpec } from '../vm/types.js';

/** How a disk keeps what it was built from: the subject of the seed PR (coreos-assembler 3359). */
export interface DiskOptions {
  /** Keep one ref per image layer (default), or drop them as disks built before the seed PR did. */
  layerRefs: 'keep' | 'drop';
  /** Drop the merged image ref (default) or keep it. */
  mergedRef: 'drop' | 'keep';
  /** The deployment follows an ostree remote ref (default, as Fedora CoreOS disks did) or the image. */
  origin: 'ostree' | 'image';
  /**
   * Which commit is deployed: the container merge commit, carrying `ostree.manifest-digest` (default, as
   * `ostree container image deploy` writes it), or a plain ostree commit of the same tree without container
   * metadata, as coreos-assembler's default path deployed after PR 3359 (Fedora CoreOS shipped the ostree
   * commit; the layer refs sat beside it). Layer GC roots only the first kind, so only on the second does
   * an update to a plain commit prune every layer ref at once. `ostree` needs `origin: 'ostree'`.
   */
  deployedCommit: 'merged' | 'ostree';
}

export const DEFAULT_DISK_OPTIONS: DiskOptions = { layerRefs: 'keep', mergedRef: 'drop', origin: 'ostree', deployedCommit: 'merged' };

/** The disk Fedora CoreOS shipped after the seed PR: layer refs kept, the plain ostree commit deployed. */
export const SEED_DISK_OPTIONS: Partial<DiskOptions> = { deployedCommit: 'ostree' };

/** The JSON description written beside every disk (`disk.json`). */
export interface DiskDescription {
  builder: string;
  options: DiskOptions;
  image: { dir: string; tag: string; reference: string; manifestDigest: string; layers: string[] };
  ostree?: { osname: string; remote: string; branch: string; commit: string; refs: string[] };
  /** Base qcow2: the harness only ever boots it through an overlay. */
  qcow2: string;
  qcow2Bytes: number;
  /** The boot of a fresh overlay; later boots re-read the entry from the disk. */
  boot: BootSpec;
  /** The guest's SSH host key, generated at build time, pinned by the harness. */
  hostKey: string;
  /** Authorized for `root`. */
  clientPublicKey: string;
  buildMs: number;
}

export interface DiskBuildRequest {
  image: OciImage;
  /** Image reference the disk claims to come from (merged ref name, image origin). */
  imageReference: string;
  options: DiskOptions;
  /** Public key to authorize for root. */
  clientPublicKey: string;
  /** Empty directory for the output. */
  outDir: string;
}

/** Anything that turns an OCI image into a bootable disk: the reference builder or a user's command. */
export interface DiskBuilder {
  readonly name: string;
  build(request: DiskBuildRequest): Promise<DiskDescription>;
}
