import type { ExecResult } from './types.js';

/** The last lines of a command's output, short enough for an error message. */
export function tail(text: string, maxLines = 20, maxChars = 2000): string {
  const lines = text.trimEnd().split('\n');
  let shown = lines.slice(-maxLines).join('\n');
  if (shown.length > maxChars) shown = shown.slice(-maxChars);
  return shown.length < text.trimEnd().length ? `…${shown}` : shown;
}

/** `exited 1`, `was killed by SIGKILL`, or why there is no exit code. */
export function describeExit(result: Pick<ExecResult, 'exitCode' | 'signal'>): string {
  if (result.exitCode !== null) return `exited ${result.exitCode}`;
  if (result.signal) return `was killed by ${result.signal}`;
  return 'ended without an exit status';
}

/** The most useful output for a message: stderr's tail, else stdout's, else a note that there was none. */
export function describeOutput(result: Pick<ExecResult, 'stdout' | 'stderr'>): string {
  if (result.stderr.trim()) return tail(result.stderr);
  if (result.stdout.trim()) return `(no stderr; stdout:) ${tail(result.stdout)}`;
  return '(no output)';
}
