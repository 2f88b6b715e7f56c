import { describe, expect, it } from 'vitest';
import { defaultEntry, parseBootEntry } from './boot-entry.js';

// As ostree 2022.7 wrote it into the reference disk's /boot/loader/entries (see README).
const ENTRY = `title Debian GNU/Linux 12 (bookworm) (ostree:0)
version 1
options root=LABEL=refos-root rw console=ttyS0 ostree=/ostree/boot.1/refos/cea747bc7fb02519d39ef34c89ca50e98dcce56e9d18215c97f591b5623a213c/0
linux /ostree/refos-cea747bc7fb02519d39ef34c89ca50e98dcce56e9d18215c97f591b5623a213c/vmlinuz-6.1.0-57-amd64
initrd /ostree/refos-cea747bc7fb02519d39ef34c89ca50e98dcce56e9d18215c97f591b5623a213c/initramfs-6.1.0-57-amd64.img
`;

describe('parseBootEntry', () => {
  it('reads the fields ostree writes', () => {
    const entry = parseBootEntry('ostree-1-refos.conf', ENTRY);
    expect(entry.version).toBe(1);
    expect(entry.linux).toMatch(/^\/ostree\/refos-cea747.*\/vmlinuz-6\.1\.0-57-amd64$/);
    expect(entry.initrd).toMatch(/initramfs-6\.1\.0-57-amd64\.img$/);
    expect(entry.options).toContain('ostree=/ostree/boot.1/refos/');
  });

  it('refuses an entry without a kernel', () => {
    expect(() => parseBootEntry('x.conf', 'title nothing\n')).toThrow(/has no `linux` line/);
  });
});

describe('defaultEntry', () => {
  it('picks the highest version, as ostree orders the newest deployment first', () => {
    const old = parseBootEntry('ostree-2-refos.conf', ENTRY.replace('version 1', 'version 1'));
    const fresh = parseBootEntry('ostree-1-refos.conf', ENTRY.replace('version 1', 'version 2'));
    expect(defaultEntry([old, fresh]).file).toBe('ostree-1-refos.conf');
  });

  it('says what is wrong with a disk that has no entry', () => {
    expect(() => defaultEntry([])).toThrow(/no boot entry/);
  });
});
