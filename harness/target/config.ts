import { LayercheckError } from '../util/errors.js';

/** Which OS the scenarios run against. */
export type TargetKind = 'reference' | 'rpm-ostree';

/** Where the image a target's disk comes from: an OCI layout on this host, or a registry. */
export type ImageSource =
  | { kind: 'oci'; dir: string; tag?: string }
  | { kind: 'registry'; reference: string };

/** The run's target, read once from the environment by {@link readTargetConfig}. */
export interface TargetConfig {
  kind: TargetKind;
  /** `E2E_DISK`: boot this qcow2 (rpm-ostree only); nothing is built. */
  disk?: string;
  /** `E2E_BUILDER`: a disk-builder command, run as `ExternalDiskBuilder` runs it. */
  builder?: string;
  /** `E2E_IMAGE`: what the builder turns into a disk, or what `E2E_DISK` was built from. */
  image?: ImageSource;
  /** `E2E_FIRMWARE`: how a disk with a bootloader is started. @default 'bios' */
  firmware: 'bios' | 'uefi';
  /** `E2E_SSH_USER`: the login the harness provisions and uses. @default 'core' (rpm-ostree), 'root' (reference) */
  sshUser: string;
  /** `E2E_DRY_RUN=1` (or `npm run e2e -- --dry-run`): print what would run, boot nothing. */
  dryRun: boolean;
}

/** The variables read here, each with the value form the error messages show. */
export const TARGET_VARIABLES = {
  E2E_TARGET: 'reference|rpm-ostree',
  E2E_DISK: '<qcow2>',
  E2E_BUILDER: '<command>',
  E2E_IMAGE: 'oci:<dir>[:<tag>] | docker://<reference>',
  E2E_FIRMWARE: 'bios|uefi',
  E2E_SSH_USER: '<user>',
  E2E_DRY_RUN: '1',
} as const;

/** A target configuration that cannot run: every problem listed, each saying what to set. */
export class TargetConfigError extends LayercheckError {
  constructor(readonly problems: readonly string[], kind: string) {
    super('E_TARGET_CONFIG', `the target configuration (E2E_TARGET=${kind}) cannot run:\n${problems.map((p) => `  - ${p}`).join('\n')}`, { problems });
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The target, from the environment (the one place target settings are read). Every invalid value and
 * combination is collected into one {@link TargetConfigError}:
 * - `reference` (default): the harness builds the reference image and disks; `E2E_BUILDER` swaps in your
 *   builder for the reference image. `E2E_DISK`, `E2E_IMAGE` and `E2E_SSH_USER` do not apply.
 * - `rpm-ostree`: exactly one of `E2E_DISK` (a finished disk) or `E2E_BUILDER` (which then needs `E2E_IMAGE`).
 */
export function readTargetConfig(env: Env = process.env): TargetConfig {
  const problems: string[] = [];
  const value = (name: keyof typeof TARGET_VARIABLES): string | undefined => {
    const v = env[name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  const rawKind = value('E2E_TARGET') ?? 'reference';
  const kind: TargetKind = rawKind === 'rpm-ostree' ? 'rpm-ostree' : 'reference';
  if (rawKind !== 'reference' && rawKind !== 'rpm-ostree') problems.push(`E2E_TARGET must be \`reference\` or \`rpm-ostree\`, got \`${rawKind}\``);

  const disk = value('E2E_DISK');
  const builder = value('E2E_BUILDER');
  const rawImage = value('E2E_IMAGE');
  const image = rawImage === undefined ? undefined : parseImageSource(rawImage);
  if (rawImage !== undefined && image === undefined) {
    problems.push(`E2E_IMAGE must be \`oci:<dir>[:<tag>]\`, an OCI layout directory, or \`docker://<reference>\`, got \`${rawImage}\``);
  }
  const rawFirmware = value('E2E_FIRMWARE');
  if (rawFirmware !== undefined && rawFirmware !== 'bios' && rawFirmware !== 'uefi') problems.push(`E2E_FIRMWARE must be \`bios\` or \`uefi\`, got \`${rawFirmware}\``);
  const sshUser = value('E2E_SSH_USER');
  if (sshUser !== undefined && !/^[a-z_][a-z0-9_-]{0,31}$/.test(sshUser)) problems.push(`E2E_SSH_USER must be a user name (lower-case letters, digits, \`_\`, \`-\`), got \`${sshUser}\``);
  const rawDry = value('E2E_DRY_RUN');
  if (rawDry !== undefined && rawDry !== '1' && rawDry !== '0') problems.push(`E2E_DRY_RUN must be \`1\` or \`0\`, got \`${rawDry}\``);

  if (disk !== undefined && builder !== undefined) problems.push('set only one of E2E_DISK (a finished disk) and E2E_BUILDER (a command that builds one)');
  if (kind === 'rpm-ostree') {
    if (disk === undefined && builder === undefined) problems.push(`missing E2E_DISK=${TARGET_VARIABLES.E2E_DISK} (a Fedora CoreOS-style disk) or E2E_BUILDER=${TARGET_VARIABLES.E2E_BUILDER} (with E2E_IMAGE)`);
    if (builder !== undefined && rawImage === undefined) problems.push(`missing E2E_IMAGE=${TARGET_VARIABLES.E2E_IMAGE}: the image E2E_BUILDER turns into a disk`);
  } else {
    const rpmOnly = 'applies to E2E_TARGET=rpm-ostree only (the reference target builds its own image and disks)';
    if (disk !== undefined) problems.push(`E2E_DISK ${rpmOnly}; to gate your builder on the reference image set E2E_BUILDER`);
    if (rawImage !== undefined) problems.push(`E2E_IMAGE ${rpmOnly}`);
    if (sshUser !== undefined) problems.push(`E2E_SSH_USER ${rpmOnly}: reference disks authorize root`);
    if (rawFirmware !== undefined && builder === undefined) problems.push('E2E_FIRMWARE needs a disk with a bootloader (E2E_BUILDER); reference disks boot their kernel directly');
  }
  if (problems.length > 0) throw new TargetConfigError(problems, rawKind);

  return {
    kind,
    ...(disk !== undefined ? { disk } : {}),
    ...(builder !== undefined ? { builder } : {}),
    ...(image !== undefined ? { image } : {}),
    firmware: rawFirmware === 'uefi' ? 'uefi' : 'bios',
    sshUser: sshUser ?? (kind === 'rpm-ostree' ? 'core' : 'root'),
    dryRun: rawDry === '1',
  };
}

/** `oci:<dir>[:<tag>]`, a directory path (an OCI layout), or `docker://<reference>`; undefined if none of these. */
export function parseImageSource(text: string): ImageSource | undefined {
  if (text.startsWith('docker://')) return text.length > 'docker://'.length ? { kind: 'registry', reference: text } : undefined;
  if (text.startsWith('oci:')) {
    const rest = text.slice('oci:'.length);
    // The tag is what follows the last colon after the last slash (a directory may contain colons only before it).
    const m = /^(.*?)(?::([A-Za-z0-9_][A-Za-z0-9._-]{0,127}))?$/.exec(rest);
    const dir = m?.[1] ?? '';
    if (dir === '') return undefined;
    return m?.[2] !== undefined ? { kind: 'oci', dir, tag: m[2] } : { kind: 'oci', dir };
  }
  if (text.startsWith('/') || text.startsWith('./') || text.startsWith('../')) return { kind: 'oci', dir: text };
  return undefined;
}

/** The image source as the builder contract spells it (`oci:<dir>:<tag>` or the registry reference). */
export function formatImageSource(image: ImageSource): string {
  return image.kind === 'registry' ? image.reference : `oci:${image.dir}${image.tag !== undefined ? `:${image.tag}` : ''}`;
}
