import { LayercheckError, describeValue } from '../util/index.js';

/**
 * A deliberately written shell script, run as `sh -c script`. The escape hatch for pipes and redirections;
 * everything else is an argv array, so no caller ever concatenates strings into a command line.
 */
export interface ShellScript {
  readonly shell: string;
}

/** A command for `exec` and friends: an argv array (quoted for you), or a `ShellScript`. */
export type Command = readonly string[] | ShellScript;

/** `sh('ostree refs | wc -l')`: run a script with the guest's POSIX sh. */
export function sh(script: string): ShellScript {
  return { shell: script };
}

/** Words that mean the same quoted or not in any POSIX sh. No `=` (a leading `a=b` is an assignment), `~`, `#`. */
const PLAIN = /^[A-Za-z0-9_@%+:,./-]+$/;

/**
 * Quote one argument for POSIX sh. We do not use zx's `quote`: it emits bash's `$'...'` for anything
 * beyond plain words (even a space), which dash, the guest's /bin/sh, reads as a literal `$` followed by
 * a quoted string. Single quotes keep every byte literal in every POSIX shell, newlines included; a
 * single quote itself is written `'\''` (end quote, escaped quote, reopen).
 */
export function quoteArg(arg: string): string {
  // A C string cannot hold NUL, so no shell can pass it on: refuse rather than truncate silently.
  if (arg.includes('\0')) {
    throw new LayercheckError('E_BAD_ARGUMENT', `a command argument cannot contain a NUL byte, got ${describeValue(JSON.stringify(arg))}`);
  }
  if (PLAIN.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** The command line sshd will hand to the login shell's `-c`: every argument quoted. */
export function shellCommand(argv: readonly string[]): string {
  if (argv.length === 0) throw new LayercheckError('E_BAD_ARGUMENT', 'a command needs at least one word, got an empty argv');
  return argv.map(quoteArg).join(' ');
}

export function isShellScript(command: Command): command is ShellScript {
  return !Array.isArray(command);
}

/** What goes over the wire. A script runs under `sh -c`, so it means the same whatever root's login shell is. */
export function toCommandLine(command: Command): string {
  return isShellScript(command) ? shellCommand(['sh', '-c', command.shell]) : shellCommand(command);
}

/** How the command reads in messages: the quoted argv (copy-pasteable), or the script as written. */
export function displayCommand(command: Command): string {
  return isShellScript(command) ? command.shell : shellCommand(command);
}
