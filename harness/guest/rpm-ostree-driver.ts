import type { GuestMachine } from './ostree-driver.js';
import { withSudo } from './sudo.js';
import { UpdaterDriver } from './updater-driver.js';

export interface RpmOstreeDriverOptions {
  /** Run every command through `sudo -n` (the login is not root, e.g. `core`). @default false */
  sudo?: boolean;
}

/**
 * rpm-ostree on a real target (Fedora CoreOS, RHCOS, bootc-built images with rpm-ostree): the same
 * verbs, JSON and summary lines as the reference updater, so the same driver reads them.
 * `--bypass-driver` lets `rebase` and `upgrade` run where an update driver such as Zincati registered
 * itself (rpm-ostree then refuses manual updates, coreos/rpm-ostree#2566); the harness's Ignition config
 * masks zincati.service as well, so nothing updates the machine behind the scenario's back.
 */
export function rpmOstreeDriver(machine: GuestMachine, options: RpmOstreeDriverOptions = {}): UpdaterDriver {
  return new UpdaterDriver(options.sudo ? withSudo(machine) : machine, {
    command: ['rpm-ostree'],
    updateFlags: ['--bypass-driver'],
    name: options.sudo ? 'rpm-ostree (sudo)' : 'rpm-ostree',
  });
}
