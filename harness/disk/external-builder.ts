import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { generateKeyPair } from '../ssh/index.js';
import { LayercheckError } from '../util/errors.js';
import { step } from '../util/log.js';
import type { BootSpec } from '../vm/types.js';
import { describeDisk } from './describe.js';
import type { DiskBuildRequest, DiskBuilder, DiskDescription } from './types.js';

/**
 * Gate a user's disk builder: run their command and take the disk it writes. The contract, also in the
 * README: the command runs through `sh -c` with
 *   LAYERCHECK_IMAGE       OCI layout directory and tag, as `oci:<dir>:<tag>`
 *   LAYERCHECK_OUT         directory to write `disk.qcow2` into
 *   LAYERCHECK_SSH_PUBKEY  public key to authorize for root
 *   LAYERCHECK_HOST_KEY    path of an ed25519 host private key to install as /etc/ssh/ssh_host_ed25519_key
 *   LAYERCHECK_OPTIONS     the disk options as JSON ({"layerRefs":"keep",...})
 * and may write `boot.json` (a direct-boot spec: {"kernel","initrd","cmdline"}); without it the disk is
 * booted with firmware.
 */
export class ExternalDiskBuilder implements DiskBuilder {
  readonly name: string;

  constructor(readonly command: string) {
    this.name = `external: ${command}`;
  }

  async build(request: DiskBuildRequest): Promise<DiskDescription> {
    const { image, options, clientPublicKey, outDir } = request;
    const started = performance.now();
    const hostKey = generateKeyPair('layercheck host key');
    const hostKeyFile = path.join(outDir, 'ssh_host_ed25519_key');
    await writeFile(hostKeyFile, hostKey.privateKey, { mode: 0o600 });
    const env = builderEnvironment({ image: `oci:${image.dir}:${image.tag}`, outDir, clientPublicKey, hostKeyFile, options });
    const result = await step('host', `run disk builder \`${this.command}\``, () => execa('sh', ['-c', this.command], { reject: false, all: true, env }));
    const qcow2 = path.join(outDir, 'disk.qcow2');
    if (result.exitCode !== 0 || !existsSync(qcow2)) {
      const why = result.exitCode !== 0 ? `exited ${result.exitCode}` : `wrote no ${qcow2}`;
      throw new LayercheckError('E_BUILDER', `disk builder \`${this.command}\` ${why}; its output ends with:\n${(result.all ?? '').split('\n').slice(-20).join('\n')}`, {
        command: this.command,
        exitCode: result.exitCode,
      });
    }
    const bootJson = path.join(outDir, 'boot.json');
    const boot: BootSpec = existsSync(bootJson)
      ? { kind: 'direct', ...(JSON.parse(await readFile(bootJson, 'utf8')) as { kernel: string; initrd?: string; cmdline: string }) }
      : { kind: 'firmware', firmware: 'bios' };
    return describeDisk(this.name, request, { qcow2, boot, hostKey: hostKey.publicKey, startedAt: started });
  }
}

/** The LAYERCHECK_* variables a builder command runs with (the dry run prints them). */
export function builderEnvironment(request: { image: string; outDir: string; clientPublicKey: string; hostKeyFile: string; options: DiskBuildRequest['options'] }): Record<string, string> {
  return {
    LAYERCHECK_IMAGE: request.image,
    LAYERCHECK_OUT: request.outDir,
    LAYERCHECK_SSH_PUBKEY: request.clientPublicKey,
    LAYERCHECK_HOST_KEY: request.hostKeyFile,
    LAYERCHECK_OPTIONS: JSON.stringify(request.options),
  };
}
