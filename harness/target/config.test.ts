import { describe, expect, it } from 'vitest';
import { TargetConfigError, parseImageSource, readTargetConfig } from './config.js';

function problems(env: Record<string, string>): readonly string[] {
  try {
    readTargetConfig(env);
  } catch (error) {
    if (error instanceof TargetConfigError) return error.problems;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be rejected`);
}

describe('readTargetConfig', () => {
  it('defaults to the reference target logging in as root', () => {
    expect(readTargetConfig({})).toEqual({ kind: 'reference', firmware: 'bios', sshUser: 'root', dryRun: false });
  });

  it('takes an rpm-ostree disk with the core user, BIOS and no image', () => {
    expect(readTargetConfig({ E2E_TARGET: 'rpm-ostree', E2E_DISK: '/srv/fcos.qcow2' })).toEqual({
      kind: 'rpm-ostree', disk: '/srv/fcos.qcow2', firmware: 'bios', sshUser: 'core', dryRun: false,
    });
  });

  it('takes a builder with its image, UEFI and a dry run', () => {
    const config = readTargetConfig({ E2E_TARGET: 'rpm-ostree', E2E_BUILDER: 'cosa buildextend-qemu', E2E_IMAGE: 'oci:/srv/fcos:stable', E2E_FIRMWARE: 'uefi', E2E_DRY_RUN: '1' });
    expect(config).toMatchObject({ builder: 'cosa buildextend-qemu', image: { kind: 'oci', dir: '/srv/fcos', tag: 'stable' }, firmware: 'uefi', dryRun: true });
  });

  it('lets the reference target run a user builder on the reference image', () => {
    expect(readTargetConfig({ E2E_BUILDER: './build-disk.sh', E2E_FIRMWARE: 'uefi' })).toMatchObject({ kind: 'reference', builder: './build-disk.sh', firmware: 'uefi' });
  });

  it('an rpm-ostree target with neither disk nor builder names both ways out', () => {
    expect(problems({ E2E_TARGET: 'rpm-ostree' })).toEqual([
      'missing E2E_DISK=<qcow2> (a Fedora CoreOS-style disk) or E2E_BUILDER=<command> (with E2E_IMAGE)',
    ]);
  });

  it('a builder without an image is missing E2E_IMAGE', () => {
    expect(problems({ E2E_TARGET: 'rpm-ostree', E2E_BUILDER: 'osbuild-wrapper' })).toEqual([
      'missing E2E_IMAGE=oci:<dir>[:<tag>] | docker://<reference>: the image E2E_BUILDER turns into a disk',
    ]);
  });

  it('lists every problem at once, in one error', () => {
    let error: unknown;
    try {
      readTargetConfig({ E2E_TARGET: 'rpm-ostree', E2E_DISK: '/d.qcow2', E2E_BUILDER: 'b', E2E_FIRMWARE: 'efi', E2E_IMAGE: 'quay.io/fedora/fedora-coreos:stable' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TargetConfigError);
    const message = (error as TargetConfigError).message;
    expect(message).toMatch(/^the target configuration \(E2E_TARGET=rpm-ostree\) cannot run:\n/);
    expect((error as TargetConfigError).problems).toHaveLength(3);
    expect(message).toContain('E2E_IMAGE must be');
    expect(message).toContain('E2E_FIRMWARE must be `bios` or `uefi`, got `efi`');
    expect(message).toContain('set only one of E2E_DISK');
    expect((error as TargetConfigError).code).toBe('E_TARGET_CONFIG');
  });

  it('rejects rpm-ostree settings on the reference target, saying what to use instead', () => {
    expect(problems({ E2E_DISK: '/d.qcow2', E2E_IMAGE: 'oci:/i', E2E_SSH_USER: 'core', E2E_FIRMWARE: 'bios' })).toEqual([
      'E2E_DISK applies to E2E_TARGET=rpm-ostree only (the reference target builds its own image and disks); to gate your builder on the reference image set E2E_BUILDER',
      'E2E_IMAGE applies to E2E_TARGET=rpm-ostree only (the reference target builds its own image and disks)',
      'E2E_SSH_USER applies to E2E_TARGET=rpm-ostree only (the reference target builds its own image and disks): reference disks authorize root',
      'E2E_FIRMWARE needs a disk with a bootloader (E2E_BUILDER); reference disks boot their kernel directly',
    ]);
  });

  it('rejects an unknown target, a bad user and a bad dry-run flag', () => {
    expect(problems({ E2E_TARGET: 'bootc', E2E_DRY_RUN: 'yes' })).toEqual([
      'E2E_TARGET must be `reference` or `rpm-ostree`, got `bootc`',
      'E2E_DRY_RUN must be `1` or `0`, got `yes`',
    ]);
    expect(problems({ E2E_TARGET: 'rpm-ostree', E2E_DISK: '/d', E2E_SSH_USER: 'Core Admin' })[0]).toMatch(/^E2E_SSH_USER must be a user name/);
  });

  it('treats empty variables as unset', () => {
    expect(readTargetConfig({ E2E_TARGET: '', E2E_DISK: ' ' })).toMatchObject({ kind: 'reference' });
  });
});

describe('parseImageSource', () => {
  it.each([
    ['oci:/srv/img', { kind: 'oci', dir: '/srv/img' }],
    ['oci:/srv/img:v1.2', { kind: 'oci', dir: '/srv/img', tag: 'v1.2' }],
    ['oci:/srv/a:b/img', { kind: 'oci', dir: '/srv/a:b/img' }],
    ['/srv/img', { kind: 'oci', dir: '/srv/img' }],
    ['./out/oci', { kind: 'oci', dir: './out/oci' }],
    ['docker://quay.io/fedora/fedora-coreos:stable', { kind: 'registry', reference: 'docker://quay.io/fedora/fedora-coreos:stable' }],
  ])('%s', (text, expected) => {
    expect(parseImageSource(text)).toEqual(expected);
  });

  it.each(['quay.io/fedora/fedora-coreos:stable', 'oci:', 'docker://', 'img'])('rejects %s', (text) => {
    expect(parseImageSource(text)).toBeUndefined();
  });
});
