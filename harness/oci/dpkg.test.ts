import { describe, expect, it } from 'vitest';
import { relocate } from './dpkg.js';

describe('relocate', () => {
  it('follows merged-usr symlinks and the /etc move', () => {
    expect(relocate('/bin/bash', undefined)).toBe('usr/bin/bash');
    expect(relocate('/lib/systemd/systemd', undefined)).toBe('usr/lib/systemd/systemd');
    expect(relocate('/sbin/ldconfig', undefined)).toBe('usr/sbin/ldconfig');
    expect(relocate('/etc/ssh/sshd_config', undefined)).toBe('usr/etc/ssh/sshd_config');
    expect(relocate('/usr/bin/ostree', undefined)).toBe('usr/bin/ostree');
  });

  it('moves the kernel and initramfs beside their modules', () => {
    expect(relocate('/boot/vmlinuz-6.1.0-57-amd64', '6.1.0-57-amd64')).toBe('usr/lib/modules/6.1.0-57-amd64/vmlinuz');
    expect(relocate('/boot/System.map-6.1.0-57-amd64', '6.1.0-57-amd64')).toBe('boot/System.map-6.1.0-57-amd64');
  });

  it('maps the dpkg database to its place under /usr', () => {
    expect(relocate('/var/lib/dpkg/info/x.list', undefined)).toBe('usr/lib/sysimage/dpkg/info/x.list');
  });
});
