import { describe, expect, test } from 'vitest';
import { SetupError } from '../util/errors.js';
import {
  accelCacheKey, cpuModelFromCpuinfo, judgeProbeConsole, parseAccelCache, parseAccelOverride, qemuVersionFromOutput,
} from './accel-decision.js';

describe('parseAccelOverride', () => {
  test.each([
    [undefined, undefined],
    ['', undefined],
    ['  ', undefined],
    ['kvm', 'kvm'],
    ['tcg', 'tcg'],
    [' TCG ', 'tcg'],
  ])('%j -> %j', (value, expected) => {
    expect(parseAccelOverride(value)).toBe(expected);
  });

  test('anything else is a setup error naming the variable and the value', () => {
    expect(() => parseAccelOverride('hvf')).toThrow(SetupError);
    expect(() => parseAccelOverride('hvf')).toThrow("E2E_ACCEL must be 'kvm' or 'tcg' (or unset to probe), got `hvf` (string)");
  });
});

describe('the cache key', () => {
  const host = { kernelRelease: '6.1.0-18-amd64', qemuVersion: '7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)', cpuModel: 'AMD EPYC' };

  test('names the host kernel, qemu version and CPU model', () => {
    expect(accelCacheKey(host)).toBe('6.1.0-18-amd64 | 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3) | AMD EPYC');
  });

  test('changes when any of them changes', () => {
    const key = accelCacheKey(host);
    expect(accelCacheKey({ ...host, kernelRelease: '6.1.0-19-amd64' })).not.toBe(key);
    expect(accelCacheKey({ ...host, qemuVersion: '8.0.0' })).not.toBe(key);
    expect(accelCacheKey({ ...host, cpuModel: 'Intel Xeon' })).not.toBe(key);
  });

  test('ignores whitespace differences', () => {
    expect(accelCacheKey({ ...host, cpuModel: '  AMD   EPYC ' })).toBe(accelCacheKey(host));
  });

  test('reads the CPU model from /proc/cpuinfo', () => {
    const cpuinfo = 'processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13 64-Core Processor\nflags\t: fpu\n\nprocessor\t: 1\nmodel name\t: AMD EPYC 7B13 64-Core Processor\n';
    expect(cpuModelFromCpuinfo(cpuinfo)).toBe('AMD EPYC 7B13 64-Core Processor');
    expect(cpuModelFromCpuinfo('processor : 0\n')).toBe('unknown');
  });

  test('reads the qemu version from --version', () => {
    expect(qemuVersionFromOutput('QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)\nCopyright (c) 2003-2022 Fabrice Bellard and the QEMU Project developers\n'))
      .toBe('7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)');
    expect(qemuVersionFromOutput('something else')).toBe('something else');
  });
});

describe('parseAccelCache', () => {
  test('keeps well-formed verdicts and drops the rest', () => {
    const text = JSON.stringify({
      a: { accel: 'tcg', reason: 'probe hung', probedAt: '2026-01-01T00:00:00Z' },
      b: { accel: 'hvf', reason: 'x', probedAt: 'y' },
      c: 'nonsense',
    });
    expect(parseAccelCache(text)).toEqual({ a: { accel: 'tcg', reason: 'probe hung', probedAt: '2026-01-01T00:00:00Z' } });
  });

  test('a damaged file is an empty cache', () => {
    expect(parseAccelCache('{"a": ')).toEqual({});
    expect(parseAccelCache('[]')).toEqual({});
    expect(parseAccelCache('null')).toEqual({});
  });
});

describe('judgeProbeConsole', () => {
  const banner = '[    0.000000] Linux version 6.1.0-57-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0) #1 SMP PREEMPT_DYNAMIC Debian 6.1.158-1 (2025-11-09)\n';

  test('nothing yet', () => {
    expect(judgeProbeConsole('')).toEqual({ booted: false, observation: 'no kernel banner; last console line: (none)' });
  });

  test('the broken nested KVM case: the setup code prints, the kernel never does', () => {
    const verdict = judgeProbeConsole('Probing EDD (edd=off to disable)... ok\r\n');
    expect(verdict).toEqual({ booted: false, observation: 'no kernel banner; last console line: "Probing EDD (edd=off to disable)... ok"' });
  });

  test('the banner alone is not enough', () => {
    const verdict = judgeProbeConsole(`${banner}[    0.000000] Command line: console=ttyS0 panic=-1\n`);
    expect(verdict.booted).toBe(false);
    expect(verdict).toMatchObject({ observation: expect.stringContaining('the kernel banner but no boot progress after it') });
  });

  test.each([
    '[    0.412345] clocksource: Switched to clocksource tsc-early',
    '[    0.812345] Trying to unpack rootfs image as initramfs...',
    '[    1.012345] Freeing unused kernel image (initmem) memory: 2796K',
    '[    1.112345] Run /init as init process',
    '[    1.212345] VFS: Unable to mount root fs on unknown-block(0,0)',
  ])('banner, then %s', (progress) => {
    expect(judgeProbeConsole(`${banner}${progress}\n`)).toEqual({ booted: true });
  });

  test('progress markers before the banner do not count', () => {
    expect(judgeProbeConsole(`clocksource: Switched to clocksource tsc\n${banner}`).booted).toBe(false);
  });
});
