import { formatMs } from './errors.js';

/**
 * Nested, timed log steps in the NixOS test driver's manner: every line carries who speaks
 * (`host`, or a machine's name), and `step` prints how long it took. Output goes to stderr so
 * it never mixes with a command's stdout.
 */
let depth = 0;

export type LogSink = (line: string) => void;
let sink: LogSink = (line) => process.stderr.write(`${line}\n`);

/** Replace where log lines go (tests capture them). Returns the previous sink. */
export function setLogSink(next: LogSink): LogSink {
  const previous = sink;
  sink = next;
  return previous;
}

export function log(who: string, message: string): void {
  sink(`${'  '.repeat(depth)}${who}: ${message}`);
}

/** A serial console line, printed as `name # text`. */
export function logConsole(who: string, text: string): void {
  sink(`${'  '.repeat(depth)}${who} # ${text}`);
}

export async function step<T>(who: string, title: string, fn: () => Promise<T>): Promise<T> {
  log(who, `${title}...`);
  const start = performance.now();
  depth++;
  try {
    const value = await fn();
    depth--;
    log(who, `${title} (took ${formatMs(performance.now() - start)})`);
    return value;
  } catch (error) {
    depth--;
    log(who, `${title} FAILED after ${formatMs(performance.now() - start)}`);
    throw error;
  }
}
