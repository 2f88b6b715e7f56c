import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { withDir } from 'tmp-promise';
import { describe, expect, it } from 'vitest';
import { bootSpecFromEntry } from './boot-files.js';
import type { BootEntry } from './boot-entry.js';

const entry: BootEntry = {
  file: 'ostree-1-refos.conf', title: 'refos', version: 1, options: 'root=LABEL=refos-root ostree=/ostree/boot.1/refos/abc/0',
  linux: '/ostree/refos-abc/vmlinuz-6.1.0', initrd: '/ostree/refos-abc/initramfs-6.1.0.img',
};

describe('bootSpecFromEntry', () => {
  it("boots the disk's own files when the entry names the same ones: no extraction from the image", async () => {
    await withDir(async ({ path: dir }) => {
      const diskBoot = path.join(dir, 'disk-boot');
      await mkdir(diskBoot);
      await writeFile(path.join(diskBoot, 'ostree_refos-abc_vmlinuz-6.1.0'), 'not a bzImage');
      await writeFile(path.join(diskBoot, 'ostree_refos-abc_initramfs-6.1.0.img'), 'initramfs');
      // The raw image does not exist: reading it would fail the test.
      const spec = await bootSpecFromEntry(entry, path.join(dir, 'missing.raw'), path.join(dir, 'machine-boot'), { reuseDirs: [diskBoot] });
      expect(spec).toEqual({
        kind: 'direct', cmdline: entry.options,
        kernel: path.join(diskBoot, 'ostree_refos-abc_vmlinuz-6.1.0'), initrd: path.join(diskBoot, 'ostree_refos-abc_initramfs-6.1.0.img'),
      });
    }, { unsafeCleanup: true });
  });

  it('extracts what the disk does not have, and says which image it could not read', async () => {
    await withDir(async ({ path: dir }) => {
      await expect(bootSpecFromEntry(entry, path.join(dir, 'missing.raw'), path.join(dir, 'machine-boot'), { reuseDirs: [path.join(dir, 'none')] }))
        .rejects.toThrow(/missing\.raw/);
    }, { unsafeCleanup: true });
  });
});
