import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCENARIO_PLANS } from '../../scenarios/plans.js';
import { readTargetConfig } from './config.js';
import { dryRun } from './dry-run.js';
import { createTarget } from './index.js';

/** The words a shell makes of `line`: proves a printed command is valid shell and says what it runs. */
async function shellWords(line: string): Promise<string[]> {
  const { stdout } = await execa('sh', ['-c', `printf '%s\\0' ${line}`]);
  return stdout.split('\0').slice(0, -1);
}

describe('dry run of the rpm-ostree target', () => {
  let cache: string;
  const savedCache = process.env.E2E_CACHE_DIR;
  beforeAll(async () => {
    cache = await mkdtemp(path.join(os.tmpdir(), 'layercheck-dry-run-test-'));
    process.env.E2E_CACHE_DIR = cache;
  });
  afterAll(async () => {
    if (savedCache === undefined) delete process.env.E2E_CACHE_DIR;
    else process.env.E2E_CACHE_DIR = savedCache;
    await rm(cache, { recursive: true, force: true });
  });

  async function run(env: Record<string, string>): Promise<string[]> {
    const lines: string[] = [];
    const target = createTarget(readTargetConfig({ E2E_TARGET: 'rpm-ostree', E2E_DRY_RUN: '1', ...env }));
    await dryRun(target, SCENARIO_PLANS, '/tmp/layercheck-dry-run', (line) => lines.push(line));
    return lines;
  }

  it('prints a runnable qemu line booting the fake disk through UEFI with the Ignition config, and the guest commands', async () => {
    const lines = await run({ E2E_DISK: '/srv/fake/fcos.qcow2', E2E_FIRMWARE: 'uefi' });
    const at = lines.indexOf('## create-disk.e2e.ts > default disk: one layer ref per image layer, no merged image ref');
    expect(at).toBeGreaterThan(-1);
    const section = lines.slice(at, lines.findIndex((l, i) => i > at && l.startsWith('## ')));

    const overlay = await shellWords(section.find((l) => l.startsWith('qemu-img ')) ?? '');
    expect(overlay).toEqual(['qemu-img', 'create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', '/srv/fake/fcos.qcow2', '/tmp/layercheck-dry-run/create-default/overlay.qcow2']);
    const qemu = await shellWords(section.find((l) => l.startsWith('qemu-system-x86_64 ')) ?? '');
    expect(qemu).toEqual(expect.arrayContaining([
      'if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd',
      'if=pflash,format=raw,unit=1,file=/tmp/layercheck-dry-run/create-default/uefi-vars.fd',
      'if=none,id=disk0,file=/tmp/layercheck-dry-run/create-default/overlay.qcow2,format=qcow2,cache=unsafe,discard=unmap',
    ]));
    expect(qemu[qemu.indexOf('-m') + 1]).toBe('2048');
    expect(qemu).not.toContain('-kernel');
    const fwCfg = qemu[qemu.indexOf('-fw_cfg') + 1] ?? '';
    expect(fwCfg).toMatch(/^name=opt\/com\.coreos\/config,file=\//);
    const ignitionFile = fwCfg.replace(/^name=opt\/com\.coreos\/config,file=/, '');
    expect(existsSync(ignitionFile)).toBe(true);
    const ignition = JSON.parse(readFileSync(ignitionFile, 'utf8')) as { ignition: { version: string }; passwd: { users: Array<{ name: string; sshAuthorizedKeys: string[] }> } };
    expect(ignition.ignition.version).toBe('3.4.0');
    expect(ignition.passwd.users[0]?.name).toBe('core');
    // The config is printed too, line for line.
    expect(section.filter((l) => l.startsWith('#   ')).map((l) => l.slice(4)).join('\n')).toBe(JSON.stringify(ignition, null, 2));
    expect(section.filter((l) => l.startsWith('guest$ '))).toEqual([
      'guest$ sudo -n ostree refs',
      'guest$ sudo -n rpm-ostree status --json',
      "guest$ sudo -n ostree show '--print-metadata-key=ostree.manifest-digest' '<booted-commit>'",
      "guest$ sudo -n ostree show '--print-metadata-key=ostree.manifest' '<booted-commit>'",
    ]);
    expect(section.some((l) => l.startsWith('# SSH: core@127.0.0.1 -p 2222'))).toBe(true);
  });

  it('says why each scenario the finished disk cannot serve is skipped', async () => {
    const lines = await run({ E2E_DISK: '/srv/fake/fcos.qcow2' });
    const skipped = lines.filter((l) => l.startsWith('skipped on this target: '));
    expect(skipped).toHaveLength(SCENARIO_PLANS.length - 1);
    expect(skipped).toContain('skipped on this target: E2E_DISK is one finished disk; the layerRefs=drop variant needs a builder (E2E_BUILDER with E2E_IMAGE)');
    // BIOS: no pflash drives, no UEFI variables.
    expect(lines.some((l) => l.includes('pflash') || l.startsWith('cp '))).toBe(false);
  });

  it('with a builder, prints its command with the LAYERCHECK_* contract for each disk variant instead of running it', async () => {
    const lines = await run({ E2E_BUILDER: 'cosa-wrapper --qemu', E2E_IMAGE: 'oci:/srv/fake/fcos:stable' });
    const builds = lines.filter((l) => l.startsWith('LAYERCHECK_IMAGE='));
    expect(builds).toHaveLength(3);
    const legacy = await shellWords(`env -i ${builds.find((l) => l.includes('"layerRefs":"drop"')) ?? ''}`);
    expect(legacy.slice(0, 3)).toEqual(['env', '-i', 'LAYERCHECK_IMAGE=oci:/srv/fake/fcos:stable']);
    expect(legacy).toContain('LAYERCHECK_OPTIONS={"layerRefs":"drop","mergedRef":"drop","origin":"ostree","deployedCommit":"merged"}');
    expect(legacy.slice(-3)).toEqual(['sh', '-c', 'cosa-wrapper --qemu']);
  });
});
