import type { KeyPair } from '../ssh/index.js';

/**
 * The Ignition spec version written. 3.4.0 is read by Ignition 2.15 and later (Fedora CoreOS since 2023,
 * the era of the seed PR); nothing used here is newer than spec 3.0.
 */
export const IGNITION_VERSION = '3.4.0';

/** Where Fedora CoreOS's Ignition looks for its config on qemu (`-fw_cfg name=...,file=...`). */
export const IGNITION_FW_CFG_NAME = 'opt/com.coreos/config';

/** The subset of an Ignition 3.x config the harness writes (spec: coreos.github.io/ignition/configuration-v3_4). */
export interface IgnitionConfig {
  ignition: { version: string };
  passwd: { users: Array<{ name: string; sshAuthorizedKeys: string[] }> };
  storage: { files: IgnitionFile[] };
  systemd?: { units: Array<{ name: string; mask: boolean }> };
}

export interface IgnitionFile {
  path: string;
  /** Decimal, as Ignition's JSON wants it (0o600 is 384). */
  mode: number;
  overwrite?: boolean;
  contents: { source: string };
}

export interface IgnitionOptions {
  /** The login to authorize (`core` on Fedora CoreOS, which has it in the `wheel` and `sudo` groups). */
  user: string;
  authorizedKeys: readonly string[];
  /** Installed as the guest's ed25519 host key, so the harness can pin it before the first login. */
  hostKey: KeyPair;
  /** Container registries the guest may reach over plain HTTP (the harness's registry behind its proxy). */
  insecureRegistries?: readonly string[];
  /** Units that must not run, e.g. `zincati.service`, which would update the machine behind the scenario's back. */
  maskUnits?: readonly string[];
}

/**
 * The Ignition config that makes a CoreOS-style disk reachable by the harness: the run's SSH key for the
 * user, a host key known in advance (sshd-keygen only generates keys that are missing), and, when given,
 * the harness's plain-HTTP registries in a containers-registries.conf drop-in, and masked units.
 */
export function ignitionConfig(options: IgnitionOptions): IgnitionConfig {
  const { user, authorizedKeys, hostKey, insecureRegistries = [], maskUnits = [] } = options;
  const files: IgnitionFile[] = [
    { path: '/etc/ssh/ssh_host_ed25519_key', mode: 0o600, contents: { source: dataUrl(ensureNewline(hostKey.privateKey)) } },
    { path: '/etc/ssh/ssh_host_ed25519_key.pub', mode: 0o644, contents: { source: dataUrl(ensureNewline(hostKey.publicKey)) } },
  ];
  if (insecureRegistries.length > 0) {
    const conf = insecureRegistries.map((location) => `[[registry]]\nlocation = ${JSON.stringify(location)}\ninsecure = true\n`).join('\n');
    files.push({ path: '/etc/containers/registries.conf.d/50-layercheck.conf', mode: 0o644, contents: { source: dataUrl(conf) } });
  }
  return {
    ignition: { version: IGNITION_VERSION },
    passwd: { users: [{ name: user, sshAuthorizedKeys: [...authorizedKeys] }] },
    storage: { files },
    ...(maskUnits.length > 0 ? { systemd: { units: maskUnits.map((name) => ({ name, mask: true })) } } : {}),
  };
}

/** An RFC 2397 data URL, base64 (Ignition fetches `data:` sources itself, no network needed). */
export function dataUrl(content: string): string {
  return `data:;base64,${Buffer.from(content, 'utf8').toString('base64')}`;
}

function ensureNewline(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}
