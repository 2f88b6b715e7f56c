import { type Deployment, parseLayerReport, parsePullSummary, parseStatus } from '../ostree/index.js';
import { LayercheckError } from '../util/errors.js';
import { step } from '../util/log.js';
import { type GuestMachine, OstreeDriver } from './ostree-driver.js';
import type { UpdateDriver, UpdateResult } from './types.js';

export interface UpdaterDriverOptions {
  /** The updater's argv prefix: `['refos-update']`, or `['rpm-ostree']` on a real target. */
  command: readonly string[];
  /** Environment for update verbs (e.g. the reference updater's test-only `REFOS_UPDATE_SKIP_GC=1`). */
  env?: Readonly<Record<string, string>>;
  /** Words after the verb of `rebase` and `upgrade` (e.g. rpm-ostree's `--bypass-driver`). */
  updateFlags?: readonly string[];
  name?: string;
}

/**
 * Drives an rpm-ostree-compatible updater: the reference OS's `refos-update` speaks rpm-ostree's verbs,
 * JSON and summary lines, so one driver serves both; only the command differs.
 */
export class UpdaterDriver extends OstreeDriver implements UpdateDriver {
  override readonly name: string;
  readonly #command: readonly string[];
  readonly #env: readonly string[];
  readonly #updateFlags: readonly string[];

  constructor(override readonly shell: GuestMachine, options: UpdaterDriverOptions) {
    super(shell);
    this.#command = options.command;
    this.#updateFlags = options.updateFlags ?? [];
    this.#env = Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${v}`);
    this.name = options.name ?? options.command.join(' ');
  }

  async status(): Promise<Deployment[]> {
    return parseStatus(await this.shell.succeed([...this.#command, 'status', '--json']));
  }

  async booted(): Promise<Deployment> {
    const booted = (await this.status()).find((d) => d.booted);
    if (!booted) throw new LayercheckError('E_GUEST_STATE', `${this.shell.name}: \`${this.#command.join(' ')} status\` lists no booted deployment`);
    return booted;
  }

  async staged(): Promise<Deployment | undefined> {
    return (await this.status()).find((d) => d.staged);
  }

  override async bootedCommit(): Promise<string> {
    return (await this.booted()).checksum;
  }

  rebase(target: string): Promise<UpdateResult> {
    return this.#update(['rebase', ...this.#updateFlags, target]);
  }

  upgrade(): Promise<UpdateResult> {
    return this.#update(['upgrade', ...this.#updateFlags]);
  }

  cleanupPending(): Promise<UpdateResult> {
    return this.#update(['cleanup', '-p']);
  }

  cleanupRollback(): Promise<UpdateResult> {
    return this.#update(['cleanup', '-r']);
  }

  reboot(): Promise<void> {
    return this.shell.reboot();
  }

  async #update(verb: readonly string[]): Promise<UpdateResult> {
    const argv = this.#env.length > 0 ? ['env', ...this.#env, ...this.#command, ...verb] : [...this.#command, ...verb];
    const result = await step(this.shell.name, [...this.#command, ...verb].join(' '), () => this.shell.execute(argv, { timeout: '20m' }));
    const update: UpdateResult = { result, ok: result.exitCode === 0 };
    const layers = parseLayerReport(result.stdout);
    const pull = parsePullSummary(result.stdout);
    if (layers) update.layers = layers;
    if (pull) update.pull = pull;
    return update;
  }
}

/** The reference OS's updater. */
export function referenceUpdater(shell: GuestMachine, options: { skipGc?: boolean } = {}): UpdaterDriver {
  return new UpdaterDriver(shell, {
    command: ['refos-update'],
    name: options.skipGc ? 'refos-update (layer GC off)' : 'refos-update',
    ...(options.skipGc ? { env: { REFOS_UPDATE_SKIP_GC: '1' } } : {}),
  });
}
