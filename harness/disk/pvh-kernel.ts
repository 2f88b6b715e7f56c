import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { execa } from 'execa';

/**
 * A bzImage's compressed payload, uncompressed, when it is an ELF kernel qemu can start through its PVH
 * entry point (`-kernel vmlinux`, Linux built with CONFIG_PVH). Why: under TCG the kernel's own
 * decompressor takes ~4 s of every boot (an 8 MB xz payload, emulated), while xz on the host takes ~1 s
 * once per extracted kernel. Returns undefined for anything else (not a bzImage, a compression this does
 * not know, no PVH note), and the caller boots the bzImage as it is.
 */
export async function pvhKernelFromBzImage(bzImage: Buffer): Promise<Buffer | undefined> {
  const payload = bzImagePayload(bzImage);
  if (!payload) return undefined;
  const elf = await decompress(payload);
  return elf && hasPvhNote(elf) ? elf : undefined;
}

/**
 * The path of `<kernel>.pvh` beside `kernel`, written unless it is already there (extracted kernels are
 * named by their content), or `kernel` itself when there is no PVH kernel in it.
 */
export async function pvhKernelBeside(kernel: string): Promise<string> {
  if (existsSync(`${kernel}.pvh`)) return `${kernel}.pvh`;
  const elf = await pvhKernelFromBzImage(await readFile(kernel));
  if (!elf) return kernel;
  const out = `${kernel}.pvh`;
  await writeFile(`${out}.tmp`, elf);
  await rename(`${out}.tmp`, out);
  return out;
}

/** The x86 boot protocol (Documentation/x86/boot.rst): `HdrS` at 0x202, payload fields from version 2.08. */
export function bzImagePayload(image: Buffer): Buffer | undefined {
  if (image.length < 0x250 || image.toString('latin1', 0x202, 0x206) !== 'HdrS' || image.readUInt16LE(0x206) < 0x208) return undefined;
  const setupSects = image.readUInt8(0x1f1) || 4;
  const start = (setupSects + 1) * 512 + image.readUInt32LE(0x248);
  const length = image.readUInt32LE(0x24c);
  if (length === 0 || start + length > image.length) return undefined;
  return image.subarray(start, start + length);
}

const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);
const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

async function decompress(payload: Buffer): Promise<Buffer | undefined> {
  const run = async (file: string, args: string[]): Promise<Buffer | undefined> => {
    // The kernel build appends the uncompressed size after the stream: --single-stream and zstd stop at its end.
    const result = await execa(file, args, { input: payload, encoding: 'buffer', reject: false, maxBuffer: 1 << 30 });
    return result.failed ? undefined : Buffer.from(result.stdout);
  };
  if (payload.subarray(0, XZ_MAGIC.length).equals(XZ_MAGIC)) return run('xz', ['-dc', '--single-stream']);
  if (payload.subarray(0, ZSTD_MAGIC.length).equals(ZSTD_MAGIC)) return run('zstd', ['-dcq']);
  if (payload.subarray(0, GZIP_MAGIC.length).equals(GZIP_MAGIC)) {
    try {
      return gunzipSync(payload);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** XEN_ELFNOTE_PHYS32_ENTRY: the 32-bit entry point qemu's PVH loader jumps to. */
const PHYS32_ENTRY = 18;

/** Whether an ELF64 little-endian image has a `Xen` note of type PHYS32_ENTRY in a PT_NOTE segment. */
export function hasPvhNote(elf: Buffer): boolean {
  if (elf.length < 64 || elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2 || elf[5] !== 1) return false;
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phentsize = elf.readUInt16LE(0x36);
  const phnum = elf.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (ph + 56 > elf.length || elf.readUInt32LE(ph) !== 4 /* PT_NOTE */) continue;
    let at = Number(elf.readBigUInt64LE(ph + 8));
    const end = Math.min(at + Number(elf.readBigUInt64LE(ph + 32)), elf.length);
    while (at + 12 <= end) {
      const namesz = elf.readUInt32LE(at);
      const descsz = elf.readUInt32LE(at + 4);
      const type = elf.readUInt32LE(at + 8);
      const name = elf.toString('latin1', at + 12, at + 12 + Math.max(namesz - 1, 0));
      if (name === 'Xen' && type === PHYS32_ENTRY) return true;
      at += 12 + align4(namesz) + align4(descsz);
    }
  }
  return false;
}

const align4 = (n: number): number => (n + 3) & ~3;
