import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { DEFAULT_DISK_OPTIONS, type DiskOptions, ExternalDiskBuilder, builderEnvironment } from '../disk/index.js';
import type { HostTool } from '../fixtures/host-packages.js';
import { clientKey } from '../fixtures/reference.js';
import { type GuestMachine, type UpdateDriver, rpmOstreeDriver } from '../guest/index.js';
import { readImage } from '../oci/layout.js';
import type { OciImage } from '../oci/types.js';
import { type KeyPair, generateKeyPair, quoteArg } from '../ssh/index.js';
import { cacheRoot, cached, diskUsage, hashInputs } from '../util/cache.js';
import { SetupError } from '../util/errors.js';
import { step } from '../util/log.js';
import { type TargetConfig, formatImageSource } from './config.js';
import { OVMF, firmwareFor } from './firmware.js';
import { IGNITION_FW_CFG_NAME, type IgnitionConfig, ignitionConfig } from './ignition.js';
import type { Provisioning, Target, TargetDisk, TargetNeed } from './types.js';

/** Fedora CoreOS's documented qemu example gives the guest 2 GiB. */
export const RPM_OSTREE_MEMORY_MIB = 2048;
/** The harness's registry as the guest sees it (REFERENCE_OS.registry), allowed over plain HTTP. */
const HARNESS_REGISTRY = '10.0.2.101:5000';
const IGNITION_CODE = fileURLToPath(new URL('./ignition.ts', import.meta.url));

/**
 * A Fedora CoreOS-style system updated by rpm-ostree: a finished disk (`E2E_DISK`) or one a builder
 * makes from `E2E_IMAGE` (`E2E_BUILDER`), booted through firmware, provisioned by Ignition over fw_cfg,
 * logged into as `core` (sudo -n for the update stack).
 */
export class RpmOstreeTarget implements Target {
  constructor(readonly config: TargetConfig) {}

  get description(): string {
    const { disk, builder, image } = this.config;
    return disk !== undefined ? `rpm-ostree, E2E_DISK=${disk}` : `rpm-ostree, E2E_BUILDER=\`${builder}\` on ${image ? formatImageSource(image) : '(no image)'}`;
  }

  whyNot(need: TargetNeed): string | undefined {
    if (need === 'reference-content') {
      return 'needs the reference OS content (its derived image in the harness registry, its ostree update commit); an rpm-ostree target cannot update to it, and deriving from E2E_IMAGE is not wired yet';
    }
    const variant = Object.entries(need.disk).filter(([k, v]) => DEFAULT_DISK_OPTIONS[k as keyof DiskOptions] !== v);
    if (this.config.disk !== undefined && variant.length > 0) {
      return `E2E_DISK is one finished disk; the ${variant.map(([k, v]) => `${k}=${String(v)}`).join(' ')} variant needs a builder (E2E_BUILDER with E2E_IMAGE)`;
    }
    return undefined;
  }

  async disk(options: Partial<DiskOptions> = {}): Promise<TargetDisk> {
    const reason = this.whyNot({ disk: options });
    if (reason !== undefined) throw new SetupError(reason);
    const key = (await clientKey()).publicKey;
    return this.config.disk !== undefined ? this.#givenDisk(this.config.disk, key) : this.#builtDisk({ ...DEFAULT_DISK_OPTIONS, ...options }, key);
  }

  /** The OCI image of `E2E_IMAGE`: the layout itself, or a registry image copied into the cache with skopeo. */
  async image(): Promise<OciImage | undefined> {
    const source = this.config.image;
    if (source === undefined) return undefined;
    if (source.kind === 'oci') return readImage(source.dir, source.tag ?? 'latest');
    const entry = await cached('rpm-ostree-image', await hashInputs([source.reference]), (dir) =>
      step('host', `copy ${source.reference} into an OCI layout`, async () => {
        await execa('skopeo', ['copy', source.reference, `oci:${path.join(dir, 'oci')}:latest`]);
        return { dir: path.join(dir, 'oci') };
      }),
    );
    return readImage(entry.value.dir, 'latest');
  }

  driver(machine: GuestMachine): UpdateDriver {
    return rpmOstreeDriver(machine, { sudo: this.config.sshUser !== 'root' });
  }

  hostRequirements(): ReturnType<Target['hostRequirements']> {
    const tools: HostTool[] = [
      { command: 'qemu-system-x86_64', pkg: 'qemu-system-x86' },
      { command: 'qemu-img', pkg: 'qemu-utils' },
      { command: 'setpriv', pkg: 'util-linux' },
    ];
    if (this.config.image?.kind === 'registry') tools.push({ command: 'skopeo', pkg: 'skopeo' });
    return { tools, files: this.config.firmware === 'uefi' ? [{ path: OVMF.code, pkg: OVMF.pkg }, { path: OVMF.vars, pkg: OVMF.pkg }] : [] };
  }

  /** `E2E_DISK`: never copied or written (machines boot overlays); its host key and Ignition config are cached beside. */
  async #givenDisk(file: string, clientPublicKey: string): Promise<TargetDisk> {
    const qcow2 = path.resolve(file);
    if (!this.config.dryRun && !existsSync(qcow2)) throw new SetupError(`E2E_DISK=${file}: no such file; point it at a qcow2 built by coreos-assembler, osbuild or bootc`);
    const hash = await hashInputs([qcow2, clientPublicKey, this.config.sshUser, { file: IGNITION_CODE }]);
    const entry = await cached('rpm-ostree-provision', hash, async (dir) => {
      const hostKey = generateKeyPair('layercheck host key');
      return { hostKey: hostKey.publicKey, ...(await this.#writeIgnition(dir, hostKey, clientPublicKey)) };
    });
    // A dry run reads nothing it would have to fetch.
    const image = this.config.dryRun ? undefined : await this.image();
    return {
      builder: 'E2E_DISK',
      options: DEFAULT_DISK_OPTIONS,
      qcow2,
      qcow2Bytes: existsSync(qcow2) ? await diskUsage(qcow2) : 0,
      boot: { kind: 'firmware', firmware: firmwareFor(this.config.firmware) },
      hostKey: entry.value.hostKey,
      provisioning: this.#provisioning(entry.value.ignitionPath, entry.value.ignition),
      ...(image ? { image: { dir: image.dir, tag: image.tag, reference: formatImageSource(this.config.image!), manifestDigest: image.manifestDigest, layers: image.manifest.layers.map((l) => l.digest) } } : {}),
    };
  }

  /** `E2E_BUILDER` on `E2E_IMAGE`, through the LAYERCHECK_* contract; Ignition then installs the builder's host key. */
  async #builtDisk(options: DiskOptions, clientPublicKey: string): Promise<TargetDisk> {
    if (this.config.dryRun) return this.#plannedDisk(options, clientPublicKey);
    const image = await this.image();
    if (image === undefined || this.config.builder === undefined) throw new SetupError('E2E_BUILDER needs E2E_IMAGE');
    const builder = new ExternalDiskBuilder(this.config.builder);
    const imageReference = formatImageSource(this.config.image!);
    const hash = await hashInputs([image.manifestDigest, JSON.stringify(options), clientPublicKey, builder.name, this.config.sshUser, { file: IGNITION_CODE }]);
    const entry = await cached('rpm-ostree-disk', hash, async (outDir) => {
      const disk = await builder.build({ image, imageReference, options, clientPublicKey, outDir });
      const privateKey = await readFile(path.join(outDir, 'ssh_host_ed25519_key'), 'utf8');
      const written = await this.#writeIgnition(outDir, { privateKey, publicKey: disk.hostKey }, clientPublicKey);
      return { disk, ...written };
    });
    const { disk, ignitionPath, ignition } = entry.value;
    return {
      ...disk,
      boot: disk.boot.kind === 'firmware' ? { kind: 'firmware', firmware: firmwareFor(this.config.firmware) } : disk.boot,
      provisioning: this.#provisioning(ignitionPath, ignition),
    };
  }

  /** Dry run of `E2E_BUILDER`: the builder's command line with its environment, and the disk it would write (not run). */
  async #plannedDisk(options: DiskOptions, clientPublicKey: string): Promise<TargetDisk> {
    const outDir = path.join(cacheRoot(), 'dry-run', await hashInputs([JSON.stringify(options), clientPublicKey, this.config.builder ?? '']));
    await mkdir(outDir, { recursive: true });
    const hostKey = generateKeyPair('layercheck host key');
    const hostKeyFile = path.join(outDir, 'ssh_host_ed25519_key');
    await writeFile(hostKeyFile, hostKey.privateKey, { mode: 0o600 });
    const env = builderEnvironment({ image: formatImageSource(this.config.image!), outDir, clientPublicKey, hostKeyFile, options });
    const { ignitionPath, ignition } = await this.#writeIgnition(outDir, hostKey, clientPublicKey);
    const builderLine = [...Object.entries(env).map(([k, v]) => `${k}=${quoteArg(v)}`), 'sh', '-c', quoteArg(this.config.builder ?? '')].join(' ');
    return {
      builder: `external: ${this.config.builder}`,
      options,
      qcow2: path.join(outDir, 'disk.qcow2'),
      qcow2Bytes: 0,
      boot: { kind: 'firmware', firmware: firmwareFor(this.config.firmware) },
      hostKey: hostKey.publicKey,
      provisioning: this.#provisioning(ignitionPath, ignition),
      plan: [`# the disk comes from the builder (a builder that writes boot.json is booted directly instead):`, builderLine],
    };
  }

  async #writeIgnition(dir: string, hostKey: KeyPair, clientPublicKey: string): Promise<{ ignitionPath: string; ignition: IgnitionConfig }> {
    const ignition = ignitionConfig({
      user: this.config.sshUser, authorizedKeys: [clientPublicKey], hostKey, insecureRegistries: [HARNESS_REGISTRY], maskUnits: ['zincati.service'],
    });
    const ignitionPath = path.join(dir, 'config.ign');
    await writeFile(ignitionPath, `${JSON.stringify(ignition, null, 2)}\n`, { mode: 0o600 });
    return { ignitionPath, ignition };
  }

  #provisioning(ignitionPath: string, ignition: IgnitionConfig): Provisioning {
    return { sshUser: this.config.sshUser, fwCfg: [{ name: IGNITION_FW_CFG_NAME, file: ignitionPath }], ignition, memoryMiB: RPM_OSTREE_MEMORY_MIB };
  }
}
