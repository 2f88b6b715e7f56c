import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, test } from 'vitest';

/**
 * refos-update's own tests (fixtures/reference-os/updater-tests: a registry, a fault-injecting proxy,
 * throwaway sysroots, a pretend-booted one) run on the host, so that `npm test` proves the updater the
 * reference OS ships, including that its `status` reads every sysroot state as libostree does.
 */
const RUN = fileURLToPath(new URL('../../fixtures/reference-os/updater-tests/run.sh', import.meta.url));
const isRoot = process.getuid?.() === 0;

describe('refos-update host tests', () => {
  test.skipIf(!isRoot)('pass (python3 -m unittest, as root)', async () => {
    const gi = await execa('/usr/bin/python3', ['-c', 'import gi; gi.require_version("OSTree", "1.0"); from gi.repository import OSTree'], { reject: false });
    expect(gi.exitCode, 'the updater tests need libostree for /usr/bin/python3: apt-get install python3-gi gir1.2-ostree-1.0').toBe(0);
    const run = await execa('sh', [RUN], { reject: false, all: true, timeout: 10 * 60_000 });
    const summary = /^Ran (\d+) tests? in .*\n\n(OK.*|FAILED.*)$/m.exec(run.all ?? '');
    expect(run.exitCode, run.all).toBe(0);
    expect(summary?.[2], run.all).toMatch(/^OK$/);
    expect(Number(summary?.[1])).toBeGreaterThanOrEqual(25);
  }, 10 * 60_000);
});
