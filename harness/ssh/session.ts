import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from 'ssh2';
import { TimeoutError, step, toMs } from '../util/index.js';
import { connectOnce } from './connect.js';
import { failureDetails, waitDescribed } from './details.js';
import {
  CommandFailedError,
  CommandSucceededError,
  HostKeyMismatchError,
  MachineDownError,
  SftpError,
  SshTransportError,
} from './errors.js';
import { type ChannelOutcome, runOnChannel } from './exec.js';
import { fingerprintOfBlob, parseKey } from './keys.js';
import { describeExit, describeOutput } from './output.js';
import { type Command, displayCommand, toCommandLine } from './quote.js';
import { readFile, withSftp, writeFile } from './sftp.js';
import type {
  ConnectOptions,
  DescribeFailure,
  ExecOptions,
  ExecResult,
  SshTarget,
  WaitUntilSucceedsOptions,
} from './types.js';

/**
 * How long an attempt waits for sshd's identification before starting over: 1 s, then 1 s more after each
 * attempt that got none, up to 10 s; at least PATIENT_BANNER_MS until `guestReady` settles. A guest
 * without its address yet never answers a connection qemu accepted, and a fresh one gets through sooner
 * than qemu's retransmitted SYN; the growth keeps a guest too loaded to identify itself within 1 s from
 * being cut off forever. Once sshd has identified itself, the login has until the deadline: a handshake
 * under TCG can take seconds, and restarting it wastes them.
 */
const BANNER_STEP_MS = 1_000;
const PATIENT_BANNER_MS = 10_000;
const MAX_BANNER_MS = 10_000;
const MIN_ATTEMPT_MS = 1_000;
/** The least time a `waitUntilSucceeds` try gets, so one started just before the deadline can still answer. */
const MIN_TRY_MS = 1_000;

function withDetails(message: string, details: string | undefined): string {
  return details ? `${message}\n${details}` : message;
}

/**
 * One logged-in SSH connection to a machine, in the NixOS test driver's vocabulary: `exec` reports,
 * `succeed` / `fail` assert, `waitUntilSucceeds` waits. Commands are argv arrays (or a deliberate `sh(...)`
 * script). Owned by a Machine, which sets `describeFailure` to add the serial console's tail to failures.
 */
export class SshSession implements AsyncDisposable {
  /** Adds the owner's view (e.g. the serial console's tail) to every failure message. */
  describeFailure: DescribeFailure | undefined;
  readonly target: Readonly<Omit<SshTarget, 'privateKey'>>;
  readonly #client: Client;
  /** Why the connection can no longer carry commands; set once it broke or was closed. */
  #lost: Error | undefined;
  readonly #closed: Promise<void>;

  private constructor(client: Client, target: SshTarget, describeFailure: DescribeFailure | undefined) {
    const { privateKey: _secret, ...visible } = target;
    this.target = visible;
    this.describeFailure = describeFailure;
    this.#client = client;
    client.on('error', (error: Error) => {
      this.#lost ??= error;
    });
    this.#closed = new Promise((resolve) => {
      client.once('close', () => {
        this.#lost ??= new Error('the connection closed');
        resolve();
      });
    });
  }

  get name(): string {
    return this.target.name;
  }

  /** False once the connection broke or `close` was called. */
  get connected(): boolean {
    return this.#lost === undefined;
  }

  /**
   * Log in, retrying until `timeout`: while a guest boots, sshd refuses, accepts and drops, never answers
   * or even denies login (pam_nologin), so every connection error is retried soon and the last one
   * reported on timeout. Only a host key other than the pinned one (`HostKeyMismatchError`), `isAlive`
   * naming a reason (`MachineDownError`), an abort, or a malformed key end the wait early.
   */
  static async connectUntil(target: SshTarget, options: ConnectOptions = {}): Promise<SshSession> {
    const { timeout = '5m', interval = '50ms', signal, isAlive, describeFailure, guestReady, readyGrace = '10s' } = options;
    let announced = guestReady === undefined;
    const announce = (): void => {
      announced = true;
    };
    guestReady?.then(announce, announce);
    const pinned = parseKey(target.hostKey);
    const address = `${target.host}:${target.port}`;
    const deadline = Date.now() + toMs(timeout);
    const graceEnds = Date.now() + toMs(readyGrace);
    let silentAttempts = 0;

    const client = await step(target.name, `waiting for SSH on ${address}`, () =>
      waitDescribed<Client>(
        async () => {
          const reason = isAlive?.();
          if (reason !== undefined) throw new MachineDownError(target.name, reason, await failureDetails(describeFailure));
          // A connection made before sshd listens would reach it later anyway, beside the real login.
          if (!announced && Date.now() < graceEnds) return { done: false, observation: 'waiting for the guest to say that sshd is ready' };
          const readyTimeoutMs = Math.max(MIN_ATTEMPT_MS, deadline - Date.now());
          const grown = Math.min(MAX_BANNER_MS, BANNER_STEP_MS * (silentAttempts + 1));
          const bannerTimeoutMs = announced ? grown : Math.max(grown, PATIENT_BANNER_MS);
          const outcome = await connectOnce(target, pinned, { readyTimeoutMs, bannerTimeoutMs, abandonIfSilent: announced ? undefined : guestReady, signal });
          if (outcome.ok) return { done: true, value: outcome.client };
          if ('hostKeyMismatch' in outcome) {
            const expected = fingerprintOfBlob(pinned.getPublicSSH());
            throw new HostKeyMismatchError(target.name, address, expected, fingerprintOfBlob(outcome.hostKeyMismatch));
          }
          if (outcome.noBanner) silentAttempts++;
          return { done: false, observation: outcome.error.message };
        },
        {
          what: `${target.name}: SSH login as ${target.username} on ${address}`,
          timeout,
          interval,
          signal,
          // The first try after the guest says sshd is ready starts at once, not at the next interval.
          ...(guestReady && { wake: guestReady }),
          context: { machine: target.name, address },
        },
        describeFailure,
      ),
    );
    return new SshSession(client, target, describeFailure);
  }

  /**
   * Run a command and report what it did, whatever its exit code. Throws only when the connection fails
   * (`SshTransportError`) or the command outlives `timeout` (`TimeoutError`; the command is then killed).
   */
  async exec(command: Command, options: ExecOptions = {}): Promise<ExecResult> {
    const { timeout = '10m', stdin } = options;
    const timeoutMs = toMs(timeout);
    const { outcome, result } = await this.#run(command, timeoutMs, stdin);
    if (outcome.kind === 'lost') throw await this.#transportError(result, outcome.error);
    if (outcome.kind === 'timeout') {
      throw new TimeoutError(
        `${this.name}: \`${result.command}\` to finish`,
        timeoutMs,
        withDetails(describeOutput(result), await failureDetails(this.describeFailure)),
        { machine: this.name, command: result.command, result },
      );
    }
    return result;
  }

  /** Run a command that must exit 0; returns its stdout, else throws `CommandFailedError`. */
  async succeed(command: Command, options?: ExecOptions): Promise<string> {
    return step(this.name, `must succeed: ${displayCommand(command)}`, async () => {
      const result = await this.exec(command, options);
      if (result.exitCode !== 0) throw new CommandFailedError(this.name, result, await failureDetails(this.describeFailure));
      return result.stdout;
    });
  }

  /** Run a command that must not exit 0; returns its result, else throws `CommandSucceededError`. */
  async fail(command: Command, options?: ExecOptions): Promise<ExecResult> {
    return step(this.name, `must fail: ${displayCommand(command)}`, async () => {
      const result = await this.exec(command, options);
      if (result.exitCode === 0) throw new CommandSucceededError(this.name, result, await failureDetails(this.describeFailure));
      return result;
    });
  }

  /**
   * Run a command until it exits 0 and return that stdout. Each try may run until the deadline (at least
   * 1 s); the `TimeoutError` reports the last finished try's exit and output. A broken connection ends the wait.
   */
  async waitUntilSucceeds(command: Command, options: WaitUntilSucceedsOptions = {}): Promise<string> {
    const { timeout = '60s', interval = '1s', signal } = options;
    const display = displayCommand(command);
    const deadline = Date.now() + toMs(timeout);
    let lastFinished = '';
    return step(this.name, `waiting for success: ${display}`, () =>
      waitDescribed(
        async () => {
          const { outcome, result } = await this.#run(command, Math.max(MIN_TRY_MS, deadline - Date.now()));
          if (outcome.kind === 'lost') throw await this.#transportError(result, outcome.error);
          if (outcome.kind === 'timeout') {
            const cutOff = `a try was still running at the deadline (${describeOutput(result)})`;
            return { done: false, observation: lastFinished ? `${lastFinished}; then ${cutOff}` : cutOff };
          }
          if (result.exitCode === 0) return { done: true, value: result.stdout };
          lastFinished = `${describeExit(result)}: ${describeOutput(result)}`;
          return { done: false, observation: lastFinished };
        },
        { what: `${this.name}: \`${display}\` to succeed`, timeout, interval, signal, context: { machine: this.name, command: display } },
        this.describeFailure,
      ),
    );
  }

  /** Write a small file over SFTP and set its mode (the guest's sshd must offer the sftp subsystem). */
  async putFile(path: string, content: string | Buffer, mode = 0o644): Promise<void> {
    try {
      await withSftp(this.#client, (sftp) => writeFile(sftp, path, content, mode));
    } catch (error) {
      throw await this.#sftpError(`cannot write ${path} over SFTP`, path, error);
    }
  }

  /** Read a small file over SFTP. */
  async getFile(path: string): Promise<Buffer> {
    try {
      return await withSftp(this.#client, (sftp) => readFile(sftp, path));
    } catch (error) {
      throw await this.#sftpError(`cannot read ${path} over SFTP`, path, error);
    }
  }

  /** Log out. Idempotent; never throws. */
  async close(): Promise<void> {
    this.#lost ??= new Error('the session was closed');
    this.#client.end();
    // A guest that stopped answering would keep us waiting for the goodbye: give it two seconds.
    await Promise.race([this.#closed, sleep(2_000, undefined, { ref: false })]);
    this.#client.destroy();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #run(
    command: Command,
    timeoutMs: number,
    stdin?: string | Buffer,
  ): Promise<{ outcome: ChannelOutcome; result: ExecResult }> {
    const start = performance.now();
    const display = displayCommand(command);
    const commandLine = toCommandLine(command);
    const outcome: ChannelOutcome = this.#lost
      ? { kind: 'lost', error: this.#lost, stdout: '', stderr: '' }
      : await runOnChannel(this.#client, commandLine, timeoutMs, stdin);
    const result: ExecResult = {
      command: display,
      exitCode: outcome.kind === 'exited' ? outcome.exitCode : null,
      ...(outcome.kind === 'exited' && outcome.signal ? { signal: outcome.signal } : {}),
      stdout: outcome.stdout,
      stderr: outcome.stderr,
      durationMs: performance.now() - start,
    };
    return { outcome, result };
  }

  async #transportError(result: ExecResult, cause: Error): Promise<SshTransportError> {
    const message = `SSH connection failed while running \`${result.command}\`: ${cause.message}`;
    return new SshTransportError(this.name, withDetails(message, await failureDetails(this.describeFailure)), { command: result.command, result }, { cause });
  }

  async #sftpError(what: string, path: string, error: unknown): Promise<SshTransportError | SftpError> {
    const cause = error instanceof Error ? error : new Error(String(error));
    const details = await failureDetails(this.describeFailure);
    if (this.#lost) {
      return new SshTransportError(this.name, withDetails(`${what}: SSH connection failed: ${this.#lost.message}`, details), { path }, { cause });
    }
    return new SftpError(this.name, withDetails(`${what}: ${cause.message}`, details), { path }, { cause });
  }
}
