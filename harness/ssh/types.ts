import type { Duration } from '../util/index.js';

/** Where and as whom to log in. Everything needed to reach one machine's sshd. */
export interface SshTarget {
  /** The machine's name, used in every message (`refos-1`). */
  name: string;
  host: string;
  port: number;
  username: string;
  /** The client's private key, OpenSSH PEM (`-----BEGIN OPENSSH PRIVATE KEY-----`). */
  privateKey: string;
  /** The pinned host key, as a public key line (`ssh-ed25519 AAAA... comment`). */
  hostKey: string;
}

/** What a command did. `exec` returns it whatever the exit code; `succeed`/`fail` judge it. */
export interface ExecResult {
  /** The command as it reads in messages: the quoted argv, or the shell script itself. */
  command: string;
  /** `null` when the command was killed by a signal or sshd sent no exit status. */
  exitCode: number | null;
  /** The signal that killed the command, e.g. `'SIGKILL'`. */
  signal?: string;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export interface ExecOptions {
  /** How long the command may run before it is killed and a `TimeoutError` thrown. @default '10m' */
  timeout?: Duration;
  /** Fed to the command's stdin, which is then closed. Without it stdin is closed at once (EOF). */
  stdin?: string | Buffer;
}

export interface WaitUntilSucceedsOptions {
  /** @default '60s' */
  timeout?: Duration;
  /** Pause between tries. @default '1s' */
  interval?: Duration;
  signal?: AbortSignal;
}

/** Extra words for a failure message, e.g. the serial console's tail. Must not throw (it is guarded anyway). */
export type DescribeFailure = () => Promise<string>;

export interface ConnectOptions {
  /** How long to keep trying: a VM under TCG can take minutes to boot. @default '5m' */
  timeout?: Duration;
  /**
   * Pause after a failed attempt. Short: a refused connection costs a loopback round trip, and every
   * pause is time the guest sits ready and unused. @default '50ms'
   */
  interval?: Duration;
  signal?: AbortSignal;
  /**
   * Asked before every attempt; a string is the reason the machine cannot answer (`'qemu exited with code 1'`)
   * and ends the wait at once with `MachineDownError` instead of waiting for the deadline.
   */
  isAlive?: () => string | undefined;
  /**
   * Settles when the owner has seen sshd become ready (e.g. its line on the serial console). Until then
   * no attempt is made for `readyGrace`, and after it an attempt waits up to 10 s for sshd to identify
   * itself: a connection qemu accepted for a guest that cannot answer yet lingers in qemu and reaches sshd
   * later, costing the booting guest an sshd process each, beside the login that counts. Once it
   * settles, an attempt still waiting is dropped and attempts retry fast.
   */
  guestReady?: Promise<unknown>;
  /** How long to wait for `guestReady` before attempting anyway (a guest that never says so). @default '10s' */
  readyGrace?: Duration;
  /** Becomes the session's `describeFailure`; also used if the connection wait times out. */
  describeFailure?: DescribeFailure;
}
