import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import type { BootSpec } from '../vm/types.js';
import { LayercheckError } from '../util/errors.js';
import { type BootEntry, defaultEntry, parseBootEntry } from './boot-entry.js';
import { pvhKernelBeside } from './pvh-kernel.js';

/** Run debugfs on a raw ext4 image (read-only; no mount, no loop device). */
async function debugfs(raw: string, request: string): Promise<string> {
  const { stdout, stderr, exitCode } = await execa('debugfs', ['-R', request, raw], { reject: false });
  if (exitCode !== 0 || /: File not found by ext2_lookup|Bad magic number|while trying to open|Filesystem not open/.test(stderr)) {
    throw new LayercheckError('E_BAD_DISK', `cannot read \`${request}\` from ${raw}: ${stderr.trim().split('\n').pop() ?? ''}`, { raw, request });
  }
  return stdout;
}

/** The default boot entry of a raw ext4 image holding an ostree sysroot. */
export async function readBootEntryFromRaw(raw: string): Promise<BootEntry> {
  const listing = await debugfs(raw, 'ls -p /boot/loader/entries');
  const files = listing.split('\n').map((l) => l.split('/')[5]).filter((f): f is string => !!f && f.endsWith('.conf'));
  const entries = await Promise.all(files.map(async (f) => parseBootEntry(f, await debugfs(raw, `cat /boot/loader/entries/${f}`))));
  return defaultEntry(entries);
}

/**
 * Turn an entry into a direct-boot spec, extracting the kernel and initramfs it names into `filesDir`
 * (named by their path under /boot, which ostree derives from their checksum, so a file that exists
 * is the right one). A file already extracted under that name in one of `reuseDirs` (the disk's own boot
 * files) is used from there: a deployment that kept its kernel costs no extraction and no decompression.
 * The kernel is the entry's own, uncompressed when it can start through PVH.
 */
export async function bootSpecFromEntry(entry: BootEntry, raw: string, filesDir: string, options: { extraCmdline?: string; reuseDirs?: readonly string[] } = {}): Promise<BootSpec> {
  const extract = async (bootPath: string): Promise<string> => {
    const name = bootPath.replace(/^\/+/, '').replaceAll('/', '_');
    const reused = (options.reuseDirs ?? []).map((dir) => path.join(dir, name)).find((file) => existsSync(file));
    if (reused !== undefined) return reused;
    const local = path.join(filesDir, name);
    if (!existsSync(local)) {
      await mkdir(filesDir, { recursive: true });
      await debugfs(raw, `dump /boot${bootPath} ${local}.tmp`);
      await execa('mv', [`${local}.tmp`, local]);
    }
    return local;
  };
  // qemu starts the uncompressed kernel through its PVH entry when it has one (see pvh-kernel.ts).
  const cmdline = [entry.options, options.extraCmdline].filter(Boolean).join(' ');
  const spec: BootSpec = { kind: 'direct', kernel: await pvhKernelBeside(await extract(entry.linux)), cmdline };
  if (entry.initrd) spec.initrd = await extract(entry.initrd);
  return spec;
}

/**
 * Read the current default boot of a qcow2 (a machine's overlay after the guest wrote a new deployment).
 * debugfs reads only raw images, so the qcow2 is first converted to a sparse raw file (~2 s for a
 * 4 GiB disk with 800 MiB used).
 */
export async function readBootSpecFromQcow2(qcow2: string, workDir: string, filesDir: string, reuseDirs: readonly string[] = []): Promise<BootSpec> {
  const raw = path.join(workDir, `boot-read-${process.pid}.raw`);
  // `-t unsafe`: no flush of the raw copy, which is read once and removed; the flush was ~1 s of every reboot.
  await execa('qemu-img', ['convert', '-t', 'unsafe', '-f', 'qcow2', '-O', 'raw', qcow2, raw]);
  try {
    return await bootSpecFromEntry(await readBootEntryFromRaw(raw), raw, filesDir, { reuseDirs });
  } finally {
    await rm(raw, { force: true });
  }
}
