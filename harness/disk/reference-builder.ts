import { chmod, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { blobPath } from '../oci/layout.js';
import { imageRef, layerRef } from '../ostree/index.js';
import { generateKeyPair } from '../ssh/index.js';
import { LayercheckError } from '../util/errors.js';
import { step } from '../util/log.js';
import { bootSpecFromEntry } from './boot-files.js';
import { readBootEntryFromTree } from './boot-entry.js';
import { ostree } from './ostree-cli.js';
import { REFERENCE_OS } from './reference-os.js';
import { describeDisk } from './describe.js';
import type { DiskBuildRequest, DiskBuilder, DiskDescription } from './types.js';

/**
 * The reference disk builder: what coreos-assembler did after PR 3359, with plain ostree commands.
 * Each image layer is imported as its own commit under its layer ref, the merged commit carries the
 * container metadata keys ostree-rs-ext writes, it is deployed, and the merged image ref is deleted.
 */
export class ReferenceDiskBuilder implements DiskBuilder {
  readonly name = 'reference';

  async build(request: DiskBuildRequest): Promise<DiskDescription> {
    const { image, imageReference, options, clientPublicKey, outDir } = request;
    const started = performance.now();
    const sysroot = path.join(outDir, 'sysroot');
    const repo = path.join(sysroot, 'ostree/repo');
    const { osname, remote, branch } = REFERENCE_OS;
    if (options.deployedCommit === 'ostree' && options.origin !== 'ostree') {
      throw new LayercheckError('E_DISK_OPTIONS', 'disk option deployedCommit: "ostree" needs origin: "ostree" (a container origin always deploys the merge commit)', { options });
    }
    await mkdir(sysroot, { recursive: true });
    await ostree(['admin', 'init-fs', sysroot]);
    await ostree(['admin', 'os-init', `--sysroot=${sysroot}`, osname]);

    const layers = image.manifest.layers.map((l) => l.digest);
    await step('host', `import ${layers.length} layers as commits under their layer refs`, async () => {
      for (const digest of layers) {
        await ostree(['commit', `--repo=${repo}`, `--branch=${layerRef(digest)}`, `--tree=tar=${blobPath(image.dir, digest)}`,
          '--tar-autocreate-parents', '--no-bindings', `--subject=${digest}`]);
      }
    });

    const merged = imageRef(imageReference);
    const version = image.config.config?.Labels?.['org.opencontainers.image.version'];
    const commit = await step('host', 'write the merged commit', () =>
      ostree(['commit', `--repo=${repo}`, `--branch=${merged}`, ...layers.map((d) => `--tree=ref=${layerRef(d)}`), '--no-bindings',
        `--subject=${imageReference}`,
        `--add-metadata-string=ostree.manifest-digest=${image.manifestDigest}`,
        `--add-metadata-string=ostree.manifest=${image.manifestBytes.toString('utf8')}`,
        `--add-metadata-string=ostree.container.image-config=${JSON.stringify(image.config)}`,
        ...(version ? [`--add-metadata-string=version=${version}`] : [])]));

    // The plain commit: the same tree (so the same objects), none of the container metadata.
    const deployed = options.deployedCommit === 'ostree'
      ? await ostree(['commit', `--repo=${repo}`, '--orphan', `--tree=ref=${commit}`, '--no-bindings', `--subject=refos ${version ?? 'base'}`,
        ...(version ? [`--add-metadata-string=version=${version}`] : [])])
      : commit;

    await ostree(['remote', 'add', `--repo=${repo}`, '--no-gpg-verify', remote, REFERENCE_OS.remoteUrl]);
    const kargs = REFERENCE_OS.kargs.map((k) => `--karg=${k}`);
    await step('host', `deploy the ${options.deployedCommit} commit (origin: ${options.origin})`, async () => {
      if (options.origin === 'ostree') {
        await ostree(['refs', `--repo=${repo}`, `--create=${remote}:${branch}`, deployed]);
        await ostree(['admin', 'deploy', `--sysroot=${sysroot}`, `--os=${osname}`, ...kargs, `${remote}:${branch}`]);
      } else {
        const origin = path.join(outDir, 'origin');
        await writeFile(origin, `[origin]\ncontainer-image-reference=ostree-unverified-registry:${imageReference.replace(/^docker:\/\//, '')}\n`);
        await ostree(['admin', 'deploy', `--sysroot=${sysroot}`, `--os=${osname}`, ...kargs, `--origin-file=${origin}`, commit]);
      }
    });

    if (options.layerRefs === 'drop') for (const d of layers) await ostree(['refs', `--repo=${repo}`, '--delete', layerRef(d)]);
    if (options.mergedRef === 'drop') await ostree(['refs', `--repo=${repo}`, '--delete', merged]);
    await ostree(['prune', `--repo=${repo}`, '--refs-only']);
    const refs = (await ostree(['refs', `--repo=${repo}`])).split('\n').filter(Boolean).sort();

    const deployDir = path.join(sysroot, 'ostree/deploy', osname, 'deploy');
    const deployment = path.join(deployDir, (await readdir(deployDir)).find((d) => d.endsWith('.0')) ?? '');
    const hostKey = generateKeyPair(`${osname} host key`);
    await installKeys(path.join(deployment, 'etc'), hostKey, clientPublicKey);

    const entry = await readBootEntryFromTree(sysroot);
    const raw = path.join(outDir, 'disk.raw');
    const qcow2 = path.join(outDir, 'disk.qcow2');
    await step('host', 'write the filesystem image', async () => {
      await execa('mkfs.ext4', ['-q', '-L', REFERENCE_OS.fsLabel, '-d', sysroot, raw, REFERENCE_OS.diskSize]);
    });
    const boot = await bootSpecFromEntry(entry, raw, path.join(outDir, 'boot'));
    await execa('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, qcow2]);
    await rm(raw);
    // ostree marks deployment roots immutable; clear that so the tree can be removed.
    await execa('chattr', ['-i', deployment]);
    await rm(sysroot, { recursive: true, force: true });

    return describeDisk(this.name, request, { qcow2, boot, hostKey: hostKey.publicKey, startedAt: started, ostree: { osname, remote, branch, commit: deployed, refs } });
  }
}

/** The pinned host key and root's authorized key, in the deployment's /etc (kept across /etc merges). */
async function installKeys(etc: string, hostKey: { privateKey: string; publicKey: string }, clientPublicKey: string): Promise<void> {
  const ssh = path.join(etc, 'ssh');
  await writeFile(path.join(ssh, 'ssh_host_ed25519_key'), hostKey.privateKey, { mode: 0o600 });
  await chmod(path.join(ssh, 'ssh_host_ed25519_key'), 0o600);
  await writeFile(path.join(ssh, 'ssh_host_ed25519_key.pub'), `${hostKey.publicKey}\n`, { mode: 0o644 });
  await mkdir(path.join(ssh, 'authorized_keys.d'), { recursive: true, mode: 0o755 });
  await writeFile(path.join(ssh, 'authorized_keys.d', 'root'), `${clientPublicKey}\n`, { mode: 0o644 });
}

