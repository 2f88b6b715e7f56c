/**
 * A machine started from the saved state of the default disk is that disk, booted: it answers SSH on a
 * host port the saved machine never had, reaches a host server through a guest forward the saved
 * machine never had, knows the time, boots the disk's deployment, a guest reboot boots the overlay
 * for real, and it powers off when asked. (Scenarios that only need "the default disk, booted" use
 * `from: 'saved-state'`.) Reference target only: a disk provisioned at first boot (Ignition) always
 * boots for real.
 */
import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { referenceDisk } from '../harness/fixtures/index.js';
import { listenOnLoopback } from '../harness/net/listen.js';
import { ostreeOf, scenario } from '../harness/testing.js';

describe('saved-state', () => {
  const server = createServer((_request, response) => response.end('hello from the host\n'));
  let hostPort = 0;
  beforeAll(async () => {
    hostPort = await listenOnLoopback(server);
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  scenario('a restored machine is the default disk booted, on new ports, and reboots for real', async ({ needs, boot, metric }) => {
    needs('reference-content');
    const { disk } = await referenceDisk();
    const machine = await boot(disk, 'saved-restore', { from: 'saved-state', guestfwds: [{ guestIp: '10.0.2.100', guestPort: 8080, hostPort }] });
    metric('boot.saved_state_to_ssh.ms', machine.bootToSshMs ?? Number.NaN, 'ms');

    // The disk's own deployment is booted.
    const guest = ostreeOf(machine);
    expect(await guest.bootedCommit()).toBe(disk.ostree?.commit);
    // The guest forward of this machine, which the saved one did not have, serves every connection.
    for (let i = 0; i < 2; i++) {
      expect(await machine.succeed(['curl', '-sS', '--max-time', '20', 'http://10.0.2.100:8080/'])).toBe('hello from the host\n');
    }
    // The guest clock was set on restore: within a minute of the host's.
    const guestEpoch = Number((await machine.succeed(['date', '+%s'])).trim());
    expect(Math.abs(guestEpoch - Date.now() / 1000)).toBeLessThan(60);
    expect(await machine.succeed(['systemctl', 'is-system-running'])).toMatch(/^(running|degraded)\n$/);

    // A guest reboot relaunches qemu on the overlay with a normal boot: a new boot id, the same deployment.
    const restoredBootId = machine.bootId;
    await machine.reboot();
    expect(machine.bootId).not.toBe(restoredBootId);
    expect(await guest.bootedCommit()).toBe(disk.ostree?.commit);

    // And it powers off when asked: qemu exits by itself, reason guest-shutdown (shutdown() fails otherwise).
    await machine.shutdown();
  });
});
