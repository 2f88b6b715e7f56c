import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { LayercheckError } from '../util/errors.js';

/** One Boot Loader Specification entry, as ostree writes them under /boot/loader/entries. */
export interface BootEntry {
  file: string;
  title?: string;
  version: number;
  linux: string;
  initrd?: string;
  options: string;
}

/** Parse a BLS entry's `key value` lines. Throws on an entry without `linux`. */
export function parseBootEntry(file: string, text: string): BootEntry {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^(\w+)\s+(.*?)\s*$/.exec(line);
    if (m && !fields.has(m[1] as string)) fields.set(m[1] as string, m[2] as string);
  }
  const linux = fields.get('linux');
  if (!linux) throw new LayercheckError('E_BAD_BOOT_ENTRY', `boot entry ${file} has no \`linux\` line: ${JSON.stringify(text.slice(0, 200))}`, { file });
  const entry: BootEntry = { file, version: Number(fields.get('version') ?? 0), linux, options: fields.get('options') ?? '' };
  const title = fields.get('title');
  const initrd = fields.get('initrd');
  if (title !== undefined) entry.title = title;
  if (initrd !== undefined) entry.initrd = initrd;
  return entry;
}

/** The entry a bootloader would pick by default: ostree gives the newest deployment the highest version. */
export function defaultEntry(entries: readonly BootEntry[]): BootEntry {
  const sorted = [...entries].sort((a, b) => b.version - a.version || (a.file < b.file ? -1 : 1));
  const first = sorted[0];
  if (!first) throw new LayercheckError('E_BAD_BOOT_ENTRY', 'the disk has no boot entry under /boot/loader/entries: is it an ostree sysroot?');
  return first;
}

/** Read the default entry from a sysroot directory on the host. */
export async function readBootEntryFromTree(sysroot: string): Promise<BootEntry> {
  const dir = path.join(sysroot, 'boot/loader/entries');
  const files = (await readdir(dir)).filter((f) => f.endsWith('.conf'));
  return defaultEntry(await Promise.all(files.map(async (f) => parseBootEntry(f, await readFile(path.join(dir, f), 'utf8')))));
}
