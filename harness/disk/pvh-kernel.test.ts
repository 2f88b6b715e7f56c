import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { bzImagePayload, hasPvhNote, pvhKernelFromBzImage } from './pvh-kernel.js';

/** A minimal ELF64 with one PT_NOTE segment holding the given (name, type) notes. */
function elfWithNotes(notes: Array<[string, number]>): Buffer {
  const bodies = notes.map(([name, type]) => {
    const n = Buffer.alloc((name.length + 1 + 3) & ~3);
    n.write(name, 'latin1');
    const head = Buffer.alloc(12);
    head.writeUInt32LE(name.length + 1, 0);
    head.writeUInt32LE(4, 4);
    head.writeUInt32LE(type, 8);
    return Buffer.concat([head, n, Buffer.from([0, 0, 0x10, 0])]);
  });
  const noteData = Buffer.concat(bodies);
  const header = Buffer.alloc(64);
  header.writeUInt32BE(0x7f454c46, 0);
  header[4] = 2; // ELFCLASS64
  header[5] = 1; // little-endian
  header.writeBigUInt64LE(64n, 0x20); // e_phoff
  header.writeUInt16LE(56, 0x36); // e_phentsize
  header.writeUInt16LE(1, 0x38); // e_phnum
  const ph = Buffer.alloc(56);
  ph.writeUInt32LE(4, 0); // PT_NOTE
  ph.writeBigUInt64LE(BigInt(64 + 56), 8); // p_offset
  ph.writeBigUInt64LE(BigInt(noteData.length), 32); // p_filesz
  return Buffer.concat([header, ph, noteData]);
}

/** A bzImage-shaped buffer: boot protocol 2.15 header, `setupSects` sectors of setup, then the payload. */
function bzImage(payload: Buffer, setupSects = 2, trailer = Buffer.alloc(0)): Buffer {
  const setup = Buffer.alloc((setupSects + 1) * 512);
  setup.writeUInt8(setupSects, 0x1f1);
  setup.write('HdrS', 0x202, 'latin1');
  setup.writeUInt16LE(0x20f, 0x206);
  const prefix = Buffer.from('decompressor code');
  setup.writeUInt32LE(prefix.length, 0x248);
  setup.writeUInt32LE(payload.length, 0x24c);
  return Buffer.concat([setup, prefix, payload, trailer]);
}

describe('PVH kernels from bzImages', () => {
  const pvhElf = elfWithNotes([['Xen', 6], ['Xen', 18]]);

  it('finds the payload where the boot protocol header says it is', () => {
    const payload = Buffer.from('payload bytes');
    expect(bzImagePayload(bzImage(payload, 3, Buffer.from('tail')))?.equals(payload)).toBe(true);
    expect(bzImagePayload(Buffer.alloc(4096))).toBeUndefined(); // no HdrS
    const old = bzImage(payload);
    old.writeUInt16LE(0x207, 0x206); // before 2.08 there are no payload fields
    expect(bzImagePayload(old)).toBeUndefined();
  });

  it('recognises the PVH entry note and nothing else', () => {
    expect(hasPvhNote(pvhElf)).toBe(true);
    expect(hasPvhNote(elfWithNotes([['Xen', 6], ['GNU', 18]]))).toBe(false);
    expect(hasPvhNote(Buffer.from('not an elf at all, but long enough to have a header of sixty-four bytes'))).toBe(false);
  });

  it('uncompresses gzip and xz payloads (the size the kernel build appends is ignored)', async () => {
    expect((await pvhKernelFromBzImage(bzImage(gzipSync(pvhElf))))?.equals(pvhElf)).toBe(true);
    const xz = Buffer.from((await execa('xz', ['-c', '--check=crc32'], { input: pvhElf, encoding: 'buffer' })).stdout);
    const size = Buffer.alloc(4);
    size.writeUInt32LE(pvhElf.length);
    expect((await pvhKernelFromBzImage(bzImage(Buffer.concat([xz, size]))))?.equals(pvhElf)).toBe(true);
  });

  it('gives up (the bzImage boots as it is) without a PVH note or with an unknown compression', async () => {
    expect(await pvhKernelFromBzImage(bzImage(gzipSync(elfWithNotes([['Xen', 6]]))))).toBeUndefined();
    expect(await pvhKernelFromBzImage(bzImage(Buffer.from('BZh91AY&SY not a format handled here')))).toBeUndefined();
    expect(await pvhKernelFromBzImage(Buffer.from('plain file'))).toBeUndefined();
  });
});
