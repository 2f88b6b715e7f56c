import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';

/** Where ostreeify.sh keeps the dpkg database: beside /usr, as rpm-ostree keeps the rpmdb. */
export const DPKG_DB = 'usr/lib/sysimage/dpkg';

/**
 * Paths as dpkg lists them refer to the tree before the ostree layout change (merged-usr symlinks such
 * as /bin, /etc not yet moved to /usr/etc, kernel in /boot). Map them to where the file now lives,
 * relative to the rootfs and without a leading slash.
 */
export function relocate(dpkgPath: string, kernelVersion: string | undefined): string {
  let p = dpkgPath.replace(/^\/+/, '');
  const top = p.split('/', 1)[0];
  if (top === 'bin' || top === 'sbin' || top === 'lib' || top === 'lib64' || top === 'lib32' || top === 'libx32') p = `usr/${p}`;
  else if (top === 'etc') p = `usr/${p}`;
  else if (top === 'var' && p.startsWith('var/lib/dpkg')) p = p.replace('var/lib/dpkg', DPKG_DB);
  else if (top === 'boot' && kernelVersion) {
    const base = path.posix.basename(p);
    if (base === `vmlinuz-${kernelVersion}`) p = `usr/lib/modules/${kernelVersion}/vmlinuz`;
    if (base === `initrd.img-${kernelVersion}`) p = `usr/lib/modules/${kernelVersion}/initramfs.img`;
  }
  return p;
}

/**
 * Package → owned paths (relative to the rootfs), read from the `.list` files of the dpkg database.
 * A path listed by several packages (directories, diversions) goes to the first package by name, so
 * the result is the same on every run.
 */
export async function readPackageFiles(rootfs: string, kernelVersion?: string): Promise<Map<string, string[]>> {
  const infoDir = path.join(rootfs, DPKG_DB, 'info');
  const lists = (await readdir(infoDir)).filter((f) => f.endsWith('.list')).sort();
  const owner = new Map<string, string>();
  for (const list of lists) {
    const pkg = list.slice(0, -'.list'.length).replace(/:.*$/, '');
    for (const line of (await readFile(path.join(infoDir, list), 'utf8')).split('\n')) {
      if (!line || line === '/.') continue;
      const rel = relocate(line, kernelVersion);
      if (!owner.has(rel)) owner.set(rel, pkg);
    }
  }
  const byPackage = new Map<string, string[]>();
  for (const [file, pkg] of owner) {
    let files = byPackage.get(pkg);
    if (!files) byPackage.set(pkg, (files = []));
    files.push(file);
  }
  return byPackage;
}
