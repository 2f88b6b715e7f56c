import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';

export interface TreeEntry {
  /** Path relative to the root, `/`-separated, no leading `./`. */
  rel: string;
  isDir: boolean;
  /** Bytes a regular file adds (hard links counted once); 0 for everything else. */
  size: number;
}

/** Every entry under `root` (not the root itself), parents before children, in byte order of names. */
export async function walkTree(root: string): Promise<TreeEntry[]> {
  const entries: TreeEntry[] = [];
  const seenInodes = new Set<string>();
  async function visit(rel: string): Promise<void> {
    const names = (await readdir(path.join(root, rel))).sort(compareBytes);
    for (const name of names) {
      const childRel = rel ? `${rel}/${name}` : name;
      const st = await lstat(path.join(root, childRel));
      let size = 0;
      if (st.isFile()) {
        const key = `${st.dev}:${st.ino}`;
        if (!seenInodes.has(key)) size = st.size;
        seenInodes.add(key);
      }
      entries.push({ rel: childRel, isDir: st.isDirectory(), size });
      if (st.isDirectory()) await visit(childRel);
    }
  }
  await visit('');
  return entries;
}

export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** `a/b/c` → `['a', 'a/b']`. */
export function parentsOf(rel: string): string[] {
  const parts = rel.split('/');
  const out: string[] = [];
  for (let i = 1; i < parts.length; i++) out.push(parts.slice(0, i).join('/'));
  return out;
}
