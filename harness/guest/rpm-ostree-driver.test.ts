import { describe, expect, it } from 'vitest';
import { sample } from '../ostree/testdata/samples.js';
import { fakeGuest } from './fake-guest.js';
import { rpmOstreeDriver } from './rpm-ostree-driver.js';
import { withSudo } from './sudo.js';
import { sh } from '../ssh/index.js';

/*
 * The rpm-ostree driver on outputs captured from real rpm-ostree systems (harness/ostree/testdata, each
 * with its source): the commands it sends, and what the harness's parsers read from the answers.
 */
describe('rpmOstreeDriver', () => {
  it('sends every command through sudo -n when the login is core', async () => {
    const { machine, seen } = fakeGuest({
      'rpm-ostree status --json': { stdout: sample('status-zincati-staged.json') },
      'ostree refs': { stdout: sample('refs-fcos-seed-layered.txt') },
    });
    const driver = rpmOstreeDriver(machine, { sudo: true });
    expect((await driver.refs()).layers).toHaveLength(51);
    expect(await driver.bootedCommit()).toBe('01f074cc6cd88d8d2b43f821da692f2367c101eb4377802cb35092bde0ef02f7');
    expect(seen).toEqual(['sudo -n ostree refs', 'sudo -n rpm-ostree status --json']);
  });

  it('reads a staged update of Fedora CoreOS 31 (booted without a `staged` key)', async () => {
    const { machine } = fakeGuest({ 'rpm-ostree status --json': { stdout: sample('status-zincati-staged.json') } });
    const driver = rpmOstreeDriver(machine);
    expect(await driver.staged()).toMatchObject({ checksum: '967b7b8d624e6d10ff51c2e81ef198fae966c567ac2e9b479771c693d0987949', staged: true, origin: 'fedora:fedora/x86_64/coreos/stable' });
    expect((await driver.booted()).staged).toBe(false);
  });

  it('reads the image a Fedora CoreOS 43 machine booted from', async () => {
    const { machine } = fakeGuest({ 'rpm-ostree status --json': { stdout: sample('status-zincati-oci.json') } });
    expect(await rpmOstreeDriver(machine).booted()).toMatchObject({
      containerImageReference: 'ostree-image-signed:docker://quay.io/fedora/fedora-coreos:stable',
      containerImageDigest: 'sha256:ca99893c80a7b84dd84d4143bd27538207c2f38ab6647a58d9c8caa251f9a087',
    });
  });

  it('rebases past an update driver and reads the layer report of a container rebase', async () => {
    const { machine, seen } = fakeGuest({ 'rpm-ostree upgrade': { stdout: sample('layers-rpm-ostree-5198-indexed.txt'), exitCode: 1 } });
    const update = await rpmOstreeDriver(machine, { sudo: true }).upgrade();
    expect(seen).toEqual(['sudo -n rpm-ostree upgrade --bypass-driver']);
    expect(update.ok).toBe(false);
    expect(update.layers).toEqual({ present: 31, needed: 40, neededBytes: 1_100_000_000, fetched: [{ id: '597ed862bdf6f78f2ed', bytes: 22_900_000 }] });
  });

  it('reads the pull summary of the seed session\'s rebase to a plain ostree ref', async () => {
    const { machine, seen } = fakeGuest({ 'rpm-ostree rebase': { stdout: sample('pull-fcos-seed-rebase.txt') } });
    const update = await rpmOstreeDriver(machine).rebase('fedora/x86_64/coreos/stable');
    expect(seen).toEqual(['rpm-ostree rebase --bypass-driver fedora/x86_64/coreos/stable']);
    expect(update.ok).toBe(true);
    expect(update.layers).toBeUndefined();
    expect(update.pull).toMatchObject({ metadata: 1152, content: 4223, transferredBytes: 244_496 * 1024, writtenBytes: 370_700_000 });
  });

  it('reads the older chunk and custom layer lines of rpm-ostree 2022.10', async () => {
    const { machine } = fakeGuest({ 'rpm-ostree rebase': { stdout: sample('layers-rpm-ostree-4532-stored-both.txt'), exitCode: 1 } });
    const update = await rpmOstreeDriver(machine).rebase('ostree-unverified-registry:registry.name:5000/my-custom-image:latest');
    expect(update.layers).toMatchObject({ present: 0, needed: 3, neededBytes: 1_300_000_000 + 17_800_000 });
  });

  it('drops the staged deployment with cleanup -p and reboots through the machine', async () => {
    const { machine, seen } = fakeGuest({ 'rpm-ostree cleanup': { stdout: '' } });
    const driver = rpmOstreeDriver(machine, { sudo: true });
    expect((await driver.cleanupPending()).ok).toBe(true);
    await driver.reboot();
    expect(seen).toEqual(['sudo -n rpm-ostree cleanup -p', '(reboot)']);
  });

  it('reads commit metadata through sudo, an absent key as undefined', async () => {
    const { machine, seen } = fakeGuest({ 'ostree show': { exitCode: 1, stderr: 'error: No such metadata key ostree.manifest-digest' } });
    expect(await rpmOstreeDriver(machine, { sudo: true }).commitMetadata('a'.repeat(64), 'ostree.manifest-digest')).toBeUndefined();
    expect(seen).toEqual([`sudo -n ostree show '--print-metadata-key=ostree.manifest-digest' ${'a'.repeat(64)}`]);
  });

  it('runs a script as sudo -n sh -c <script>', async () => {
    const { machine, seen } = fakeGuest({ 'sudo -n sh -c': { stdout: '/root\n' } });
    expect(await withSudo(machine).succeed(sh('echo "$HOME"'))).toBe('/root\n');
    expect(seen).toEqual([`sudo -n sh -c 'echo "$HOME"'`]);
  });
});
