import { chmod, copyFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { dir } from 'tmp-promise';
import {
  type Command, type ExecOptions, type ExecResult, SshSession, type WaitUntilSucceedsOptions, sh, toCommandLine,
} from '../ssh/index.js';
import { type Duration, toMs } from '../util/duration.js';
import { log, step } from '../util/log.js';
import { accelFor } from './accel.js';
import { qemuArgs } from './args.js';
import { ConsoleCapture, type WaitForTextOptions } from './console.js';
import type { ConsoleFailure } from './console-patterns.js';
import type { MachineError } from './errors.js';
import { INCOMING_FD, launchQemu } from './launch.js';
import { type MachineOptions, type SavedState, SSHD_READY_PATTERN } from './machine-options.js';
import { createOverlay } from './overlay.js';
import type { QmpClient } from './qmp.js';
import { type QemuProcess, exitWithin } from './qemu-process.js';
import { DEFAULT_MEMORY_MIB, DEFAULT_VCPUS, reserveCapacity } from './capacity.js';
import { type Reapable, register } from './registry.js';
import { type MigrationStatus, migrationVerdict, openGuestConnections, saveUri } from './saved-state.js';
import { waitUntil } from '../util/wait.js';
import type { Accel, BootSpec } from './types.js';

/** What one boot of a machine adds to its options: the boot spec, accelerator, port and paths of that boot. */
export interface BootInstance {
  spec: BootSpec;
  accel: Accel;
  sshPort: number;
  qmpSocket: string;
  overlayPath: string;
  /** Set when the boot restores a saved state: the descriptor qemu reads the migration stream from. */
  incomingFd?: number;
}

/** The qemu arguments of one boot of a machine; the dry run prints the same list. */
export function machineQemuArgs(options: MachineOptions, boot: BootInstance): string[] {
  const { name, memoryMiB, cpus, cpuModel, guestfwds, fwCfg, extraArgs } = options;
  return qemuArgs({
    name, accel: boot.accel, memoryMiB, cpus, cpuModel, boot: boot.spec, sshPort: boot.sshPort, guestfwds, fwCfg, extraArgs,
    qmpSocket: boot.qmpSocket, disk: { path: boot.overlayPath, format: 'qcow2' },
    ...(boot.incomingFd !== undefined && { incomingFd: boot.incomingFd }),
  });
}

/** Lines of the serial console appended to failures. */
const CONSOLE_TAIL_LINES = 40;

/**
 * One VM for its whole life: a private overlay on the base disk, qemu (restarted on every reboot, since
 * it runs with `-no-reboot`), QMP, the serial console, and an SSH session. Disposing kills qemu and
 * removes everything it created; an interrupted run is cleaned up by the process registry.
 */
export class Machine implements AsyncDisposable {
  readonly name: string;
  #bootIds: string[] = [];
  #bootToSshMs: number | undefined;
  #sshdReadyMs: number | undefined;
  #accel: Accel | undefined;
  #qemu: QemuProcess | undefined;
  #qmp: QmpClient | undefined;
  #session: SshSession | undefined;
  #sshPort: number | undefined;
  #uefiVars: string | undefined;
  #disposed: Promise<void> | undefined;

  private constructor(
    private readonly options: MachineOptions,
    private readonly tempDir: string,
    private readonly serial: ConsoleCapture,
    private readonly reapable: { entry: Reapable; unregister: () => void },
    private readonly releaseCapacity: () => Promise<void>,
  ) {
    this.name = options.name;
  }

  /** Create the overlay, boot, and log in over SSH. */
  static async start(options: MachineOptions): Promise<Machine> {
    const { name, logDir } = options;
    return step(name, 'starting machine', async () => {
      const reapable = register(name);
      let machine: Machine | undefined;
      // Wait for room on this host first (memory and cores, counting every layercheck process's machines).
      const releaseCapacity = await reserveCapacity(name, { memoryMiB: options.memoryMiB ?? DEFAULT_MEMORY_MIB, cpus: options.cpus ?? DEFAULT_VCPUS });
      try {
        const temp = await dir({ prefix: `layercheck-${name}-`, unsafeCleanup: true });
        reapable.entry.tempDir = temp.path;
        // A restored machine's disk is the saved overlay's content: its own overlay goes on top of that one.
        const { restore } = options;
        await createOverlay(restore?.overlay ?? options.disk.path, join(temp.path, 'overlay.qcow2'), restore ? 'qcow2' : options.disk.format);
        const serial = await ConsoleCapture.open({ name, logPath: join(logDir, `${name}.console.log`) });
        machine = new Machine(options, temp.path, serial, reapable, releaseCapacity);
        await machine.#boot();
        return machine;
      } catch (error) {
        if (machine) await machine.dispose();
        else {
          if (reapable.entry.tempDir) await rm(reapable.entry.tempDir, { recursive: true, force: true });
          reapable.unregister();
          await releaseCapacity();
        }
        throw error;
      }
    });
  }

  get overlayPath(): string {
    return join(this.tempDir, 'overlay.qcow2');
  }

  get consoleLogPath(): string {
    return this.serial.logPath;
  }

  /** The running qemu's pid, undefined between boots and after shutdown. */
  get pid(): number | undefined {
    return this.#qemu?.exit() === undefined ? this.#qemu?.pid : undefined;
  }

  /** The host loopback port forwarded to the guest's SSH of the current boot. */
  get sshPort(): number | undefined {
    return this.#sshPort;
  }

  get accel(): Accel | undefined {
    return this.#accel;
  }

  /** The boot ids seen, one per boot, oldest first. */
  get bootIdHistory(): readonly string[] {
    return this.#bootIds;
  }

  /** The boot id of the current (last) boot. */
  get bootId(): string | undefined {
    return this.#bootIds.at(-1);
  }

  /** Milliseconds from starting qemu to the SSH login, of the last boot (the `boot.to_ssh.ms` metric). */
  get bootToSshMs(): number | undefined {
    return this.#bootToSshMs;
  }

  /**
   * Milliseconds from starting qemu to the console line saying sshd is ready (`sshdReadyPattern`), of the
   * last boot: the guest's own part of `bootToSshMs`, the rest being the harness's. Undefined when no such
   * line came before the login.
   */
  get sshdReadyMs(): number | undefined {
    return this.#sshdReadyMs;
  }

  /** The SSH session of the current boot. */
  get ssh(): SshSession {
    if (!this.#session?.connected) throw this.#notRunning('has no SSH session');
    return this.#session;
  }

  get qmp(): QmpClient {
    if (!this.#qmp || this.#qmp.closed) throw this.#notRunning('has no QMP connection');
    return this.#qmp;
  }

  /** Run a command and report what it did, whatever its exit code. */
  execute(command: Command, options?: ExecOptions): Promise<ExecResult> {
    return this.ssh.exec(command, options);
  }

  /** Run a command that must exit 0; returns its stdout. */
  succeed(command: Command, options?: ExecOptions): Promise<string> {
    return this.ssh.succeed(command, options);
  }

  /** Run a command that must not exit 0. */
  fail(command: Command, options?: ExecOptions): Promise<ExecResult> {
    return this.ssh.fail(command, options);
  }

  waitUntilSucceeds(command: Command, options?: WaitUntilSucceedsOptions): Promise<string> {
    return this.ssh.waitUntilSucceeds(command, options);
  }

  /** Wait for a serial console line of the current boot. @see ConsoleCapture.waitForText */
  waitForConsoleText(pattern: RegExp, options?: WaitForTextOptions): Promise<string> {
    return this.serial.waitForText(pattern, options);
  }

  /** Known console failures (kernel panic, OOM, Ignition, ...), the first of each boot that had one. */
  get consoleFailures(): readonly ConsoleFailure[] {
    return this.serial.failures;
  }

  /** The last `n` serial console lines, cleaned of escapes. */
  consoleTail(n = CONSOLE_TAIL_LINES): string[] {
    return this.serial.tail(n);
  }

  /**
   * Reboot the guest and log in again: once the boot has finished (`systemctl is-system-running --wait`),
   * `systemctl reboot`, qemu exits (`-no-reboot`), the boot spec is
   * read again from the overlay, qemu starts on the same overlay. Proven by a changed boot id.
   */
  async reboot(): Promise<void> {
    await step(this.name, 'rebooting', async () => {
      const qemu = this.#running();
      const before = this.bootId;
      // A reboot queued while the boot's own start jobs are pending cancels them, among them the path unit
      // that finalizes a staged deployment at shutdown: let the boot finish first (any end state will do;
      // a command right after a boot can get there before the boot's tail).
      await this.ssh.exec(['systemctl', 'is-system-running', '--wait'], { timeout: '5m' });
      const rebootCommand = this.options.rebootCommand ?? ['systemctl', 'reboot'];
      const command = this.#runGoingDown(this.ssh, rebootCommand);
      const exit = await exitWithin(qemu, this.#shutdownMs);
      if (!exit) throw this.#error('E_REBOOT_TIMEOUT', `the guest did not go down within ${this.#shutdownTimeout} of \`${toCommandLine(rebootCommand)}\``);
      await command;
      await this.#closeConnections();
      this.#expectStopReason('guest-reset', 'E_REBOOT_NOT_RESET', 'reboot');
      await this.#boot();
      if (this.bootId === before) {
        throw this.#error('E_BOOT_ID_UNCHANGED', `the boot id is still ${before} after the reboot`, { bootId: before });
      }
    });
  }

  /**
   * Save this running machine so that others can start from here (`MachineOptions.restore`): log out,
   * wait until qemu's user network tracks no guest connection, stop the guest, write its state to
   * `<dir>/state`, let qemu exit, and copy the overlay as it then was to `<dir>/overlay.qcow2`, read-only.
   * The machine is stopped afterwards (dispose it as usual).
   */
  async saveState(dir: string): Promise<SavedState> {
    return step(this.name, 'saving the VM state', async () => {
      const qemu = this.#running();
      const qmp = this.qmp;
      await this.#session?.close();
      this.#session = undefined;
      // A TCP connection open at save time would be restored half-dead into every clone.
      await waitUntil(async () => {
        const open = openGuestConnections(await qmp.execute<string>('human-monitor-command', { 'command-line': 'info usernet' }));
        return open.length === 0 ? { done: true, value: undefined } : { done: false, observation: `open: ${open.join('; ')}` };
      }, { what: `${this.name}: the user network to close its guest connections`, timeout: '30s', interval: '100ms' });
      const saved: SavedState = { overlay: join(dir, 'overlay.qcow2'), state: join(dir, 'state') };
      await qmp.execute('stop');
      await qmp.execute('migrate', { uri: saveUri(saved.state) });
      await waitUntil(async () => {
        const verdict = migrationVerdict(await qmp.execute<MigrationStatus>('query-migrate'));
        if (!verdict.done && verdict.failed) throw this.#error('E_SAVE_STATE', `qemu could not save the VM state: ${verdict.failed}`, { state: saved.state });
        return verdict;
      }, { what: `${this.name}: qemu to write the VM state to ${saved.state}`, timeout: '120s', interval: '100ms' });
      await qmp.execute('quit').catch(() => undefined); // qemu may close QMP before answering
      if (!(await exitWithin(qemu, 10_000))) throw this.#error('E_SAVE_STATE', 'qemu did not exit within 10s of `quit` after saving');
      await this.#closeConnections();
      await copyFile(this.overlayPath, saved.overlay);
      await chmod(saved.overlay, 0o444);
      await chmod(saved.state, 0o444);
      return saved;
    });
  }

  /**
   * Power the guest off and wait for qemu to exit. Logged in, the guest is asked (`poweroffCommand`, as
   * `reboot` does); otherwise ACPI's power button (`system_powerdown`), which only a guest with a power-key
   * handler (logind) obeys: the reference OS has none. A guest still up after the shutdown timeout is
   * killed and the call fails with E_SHUTDOWN_TIMEOUT; one that stopped for another reason (a panic) fails
   * with E_SHUTDOWN_NOT_POWEROFF.
   */
  async shutdown(): Promise<void> {
    const qemu = this.#qemu;
    if (!qemu || qemu.exit()) return;
    await step(this.name, 'shutting down', async () => {
      const poweroffCommand = this.options.poweroffCommand ?? ['systemctl', 'poweroff'];
      const session = this.#session?.connected ? this.#session : undefined;
      const how = session ? `\`${toCommandLine(poweroffCommand)}\`` : 'the ACPI power button';
      const asked = session
        ? this.#runGoingDown(session, poweroffCommand)
        : this.#qmp?.execute('system_powerdown').catch((error: Error) => log(this.name, `system_powerdown failed: ${error.message}`));
      const exit = await exitWithin(qemu, this.#shutdownMs);
      if (!exit) {
        qemu.kill();
        await qemu.exited;
      }
      await asked;
      await this.#closeConnections();
      if (!exit) throw this.#error('E_SHUTDOWN_TIMEOUT', `the guest did not power off within ${this.#shutdownTimeout} of ${how}; qemu was killed`);
      this.#expectStopReason('guest-shutdown', 'E_SHUTDOWN_NOT_POWEROFF', 'power off');
    });
  }

  /** Kill qemu, close connections, remove the overlay and temp dir. Idempotent; never throws. */
  dispose(): Promise<void> {
    this.#disposed ??= this.#dispose();
    return this.#disposed;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }

  async #dispose(): Promise<void> {
    const attempt = async (what: string, action: () => unknown): Promise<void> => {
      try {
        await action();
      } catch (error) {
        log(this.name, `while disposing, ${what} failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    };
    await attempt('closing SSH', () => this.#session?.close());
    const qemu = this.#qemu;
    if (qemu && !qemu.exit()) {
      // qemu may close QMP before answering `quit`: only its exit matters.
      await this.#qmp?.execute('quit', undefined, { timeout: '3s' }).catch(() => undefined);
      if (!(await exitWithin(qemu, 3_000))) {
        qemu.kill();
        if (!(await exitWithin(qemu, 5_000))) log(this.name, `qemu (pid ${qemu.pid}) did not die after SIGKILL`);
      }
    }
    this.#qmp?.close();
    await attempt('closing the console log', () => this.serial.close());
    await attempt(`removing ${this.tempDir}`, () => rm(this.tempDir, { recursive: true, force: true }));
    this.reapable.unregister();
    await attempt('releasing its capacity ticket', () => this.releaseCapacity());
  }

  /** Start qemu on the overlay and log in; records the boot id and the boot-to-SSH time. */
  async #boot(): Promise<void> {
    const { name, ssh, timeouts } = this.options;
    const spec = await this.#bootSpec();
    const accel = (this.#accel ??= await accelFor(this.options.accel, spec, this.options.cpuModel));
    const bootNumber = this.#bootIds.length + 1;
    // Only the first start restores: after a guest reboot the overlay boots like any disk.
    const restore = bootNumber === 1 ? this.options.restore : undefined;
    await step(name, restore ? `restoring the saved state (${accel})` : `booting (boot ${bootNumber}, ${accel})`, async () => {
      const qmpSocket = join(this.tempDir, 'qmp.sock');
      const { qemu, qmp, sshPort, startedAt } = await launchQemu({
        qmpSocket,
        serial: this.serial,
        incomingState: restore?.state,
        args: (sshPort) => machineQemuArgs(this.options, { spec, accel, sshPort, qmpSocket, overlayPath: this.overlayPath, ...(restore && { incomingFd: INCOMING_FD }) }),
        banner: (pid, sshPort) => `layercheck: ${name} ${restore ? `restored from ${restore.state}` : `boot ${bootNumber}`}, qemu pid ${pid}, ${accel}, ssh port ${sshPort}`,
        onSpawn: (spawned) => this.#track(spawned),
      });
      this.#qmp = qmp;
      this.#sshPort = sshPort;
      if (restore) await this.#resumeRestored(qmp);
      // The console's verdict first: "kernel panic" says more than the "qemu exited with code 0" it causes.
      const isAlive = (): string | undefined => {
        const failure = this.serial.failure;
        const exit = qemu.exit();
        const seen = failure && `${failure.description}: console printed ${JSON.stringify(failure.line)}`;
        return seen && exit ? `${seen}; ${exit.description}` : (seen ?? exit?.description);
      };
      const timeout = timeouts?.bootToSsh ?? (accel === 'tcg' ? '180s' : '90s');
      // The console's sshd-ready line lets the SSH wait go fast exactly when it can succeed. Its failures
      // (qemu gone, a known console failure) are isAlive's to report; the wait just never hears of ready.
      // A restored guest printed that line before it was saved: it is ready now, retries go fast at once.
      const sshdReady = this.options.sshdReadyPattern ?? SSHD_READY_PATTERN;
      const stopWatching = new AbortController();
      const guestReady = restore ? undefined : this.serial.waitForLine(sshdReady, { timeout, signal: stopWatching.signal })
        .catch(() => new Promise<never>(() => {}));
      try {
        this.#session = await SshSession.connectUntil(
          { name, host: '127.0.0.1', port: sshPort, ...ssh },
          { timeout, isAlive, ...(guestReady && { guestReady }), describeFailure: async () => this.serial.describe() },
        );
      } finally {
        stopWatching.abort();
      }
      this.#bootToSshMs = performance.now() - startedAt;
      this.#sshdReadyMs = this.serial.findLine(sshdReady)?.atMs;
      // A restored guest's wall clock stopped when it was saved: set it to now, in the same round trip.
      const bootId = restore
        ? await this.#session.succeed(sh(`date -u -s @${(Date.now() / 1000).toFixed(3)} >/dev/null && cat /proc/sys/kernel/random/boot_id`))
        : await this.#session.succeed(['cat', '/proc/sys/kernel/random/boot_id']);
      this.#bootIds.push(bootId.trim());
    });
  }

  /**
   * A saved state was written from a stopped guest, so qemu holds it paused once loaded: wait for the
   * load to finish (`inmigrate` gives way to `paused`), then let the guest run.
   */
  async #resumeRestored(qmp: QmpClient): Promise<void> {
    const status = await waitUntil(async () => {
      const { status } = await qmp.execute<{ status: string }>('query-status').catch(async (error: Error) => {
        const exit = this.#qemu?.exit() ?? (this.#qemu && (await exitWithin(this.#qemu, 1_000)));
        throw this.#error('E_RESTORE', `qemu failed while loading the saved state: ${exit ? exit.description : error.message}`);
      });
      if (status === 'inmigrate') return { done: false, observation: 'still loading the saved state' };
      return { done: true, value: status };
    }, { what: `${this.name}: qemu to load the saved state`, timeout: '120s', interval: '20ms' });
    if (status === 'paused') await qmp.execute('cont');
    else if (status !== 'running') throw this.#error('E_RESTORE', `after loading the saved state qemu reports ${status}, not paused`, { status });
  }

  /** The current qemu, registered for cleanup until it exits. */
  #track(qemu: QemuProcess): void {
    this.#qemu = qemu;
    this.reapable.entry.pid = qemu.pid;
    void qemu.exited.then(() => {
      if (this.reapable.entry.pid === qemu.pid) this.reapable.entry.pid = undefined; // never kill a reused pid
    });
  }

  async #bootSpec(): Promise<BootSpec> {
    const spec = await this.options.disk.bootSpec(this.overlayPath);
    if (spec.kind !== 'firmware' || spec.firmware === 'bios') return spec;
    // The firmware writes its variables: give this machine its own copy, kept across reboots.
    if (this.#uefiVars === undefined) {
      this.#uefiVars = join(this.tempDir, 'uefi-vars.fd');
      await copyFile(spec.firmware.uefi.vars, this.#uefiVars);
    }
    return { kind: 'firmware', firmware: { uefi: { code: spec.firmware.uefi.code, vars: this.#uefiVars } } };
  }

  get #shutdownTimeout(): Duration {
    return this.options.timeouts?.shutdown ?? '120s';
  }

  get #shutdownMs(): number {
    return toMs(this.#shutdownTimeout);
  }

  /** The `reason` of qemu's SHUTDOWN event (`guest-reset`, `guest-shutdown`, `guest-panic`, ...), if it came. */
  #shutdownReason(): string | undefined {
    const event = this.#qmp?.events.findLast((e) => e.event === 'SHUTDOWN');
    const reason = event?.data?.reason;
    return typeof reason === 'string' ? reason : undefined;
  }

  /** Runs a command that takes the guest down: sshd goes with it, so the command may fail or never answer; qemu's exit is what counts. */
  #runGoingDown(session: SshSession, command: Command): Promise<unknown> {
    return session.exec(command, { timeout: '30s' }).catch(() => undefined);
  }

  /** Fails with `code` if qemu's SHUTDOWN event came with another reason than the one the guest was asked for. */
  #expectStopReason(expected: string, code: string, asked: string): void {
    const reason = this.#shutdownReason();
    if (reason !== undefined && reason !== expected) {
      throw this.#error(code, `asked to ${asked}, the guest stopped with reason ${reason} instead`, { reason });
    }
  }

  async #closeConnections(): Promise<void> {
    await this.#session?.close();
    this.#session = undefined;
    this.#qmp?.close();
  }

  #running(): QemuProcess {
    const qemu = this.#qemu;
    if (!qemu || qemu.exit()) throw this.#notRunning('is not running');
    return qemu;
  }

  #notRunning(what: string): MachineError {
    const exit = this.#qemu?.exit();
    return this.#error('E_MACHINE_NOT_RUNNING', `${what}${exit ? ` (${exit.description})` : ''}`);
  }

  #error(code: string, message: string, context: Record<string, unknown> = {}): MachineError {
    return this.serial.error(code, message, context);
  }
}
