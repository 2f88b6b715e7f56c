import { LayercheckError } from '../util/index.js';
import { describeExit, describeOutput, tail } from './output.js';
import type { ExecResult } from './types.js';

/**
 * The scenario's expectation did not hold (as opposed to the infrastructure breaking). Lives here until
 * harness/util grows it; `CommandFailedError` and `CommandSucceededError` are its first kinds.
 */
export class AssertionFailure extends LayercheckError {}

/** Appended to messages: the owner's extra description (serial console tail, ...), if any. */
function suffix(details: string | undefined): string {
  return details ? `\n${details}` : '';
}

/** `succeed` saw a non-zero exit. */
export class CommandFailedError extends AssertionFailure {
  readonly result: ExecResult;
  constructor(machine: string, result: ExecResult, details?: string) {
    super(
      'E_COMMAND_FAILED',
      `${machine}: command \`${result.command}\` ${describeExit(result)}: ${describeOutput(result)}${suffix(details)}`,
      { machine, result },
    );
    this.result = result;
  }
}

/** `fail` saw the command succeed. */
export class CommandSucceededError extends AssertionFailure {
  readonly result: ExecResult;
  constructor(machine: string, result: ExecResult, details?: string) {
    const stdout = result.stdout.trim() ? tail(result.stdout) : '(no output)';
    super(
      'E_COMMAND_SUCCEEDED',
      `${machine}: command \`${result.command}\` was expected to fail but exited 0; stdout: ${stdout}${suffix(details)}`,
      { machine, result },
    );
    this.result = result;
  }
}

/** The machine presented a host key other than the one pinned when its disk was built. Never retried. */
export class HostKeyMismatchError extends LayercheckError {
  constructor(machine: string, address: string, expected: string, got: string) {
    super(
      'E_HOST_KEY',
      `${machine}: the SSH server at ${address} presented host key ${got}, but the disk was built with ${expected}. ` +
        `Either the disk image is stale (rebuild it), or another machine answers on that port ` +
        `(a leftover qemu? check what listens on ${address}).`,
      { machine, address, expected, got },
    );
  }
}

/** The SSH connection broke (or could not carry the request): infrastructure, not the scenario. */
export class SshTransportError extends LayercheckError {
  constructor(machine: string, message: string, context: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super('E_SSH_TRANSPORT', `${machine}: ${message}`, { machine, ...context }, options);
  }
}

/** The owner said the machine cannot answer any more (qemu exited), so waiting for SSH stopped early. */
export class MachineDownError extends LayercheckError {
  constructor(machine: string, reason: string, details?: string) {
    super('E_MACHINE_DOWN', `${machine}: stopped waiting for SSH: ${reason}${suffix(details)}`, { machine, reason });
  }
}

/** An SFTP request failed (no such file, permission denied, no sftp subsystem, ...). */
export class SftpError extends LayercheckError {
  constructor(machine: string, message: string, context: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super('E_SFTP', `${machine}: ${message}`, { machine, ...context }, options);
  }
}
