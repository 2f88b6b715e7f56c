import { ProgressTicker } from '../report/progress.js';
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

/**
 * Wraps the body of every step, e.g. to make it an Allure step as well. The e2e project's setup file
 * registers one; anything else (unit tests, `bin/` scripts) runs steps without a hook.
 */
export type StepHook = <T>(who: string, title: string, body: () => Promise<T>) => Promise<T>;
let stepHook: StepHook | undefined;

/** Set (or, with `undefined`, remove) the step hook. Returns the previous one. */
export function setStepHook(next: StepHook | undefined): StepHook | undefined {
  const previous = stepHook;
  stepHook = next;
  return previous;
}

/** While a step runs, its elapsed time is printed every 15 s, so a 5-minute build never looks hung. */
const progress = new ProgressTicker((who, text) => log(who, text));

/** How often a running step prints its elapsed time; 0 turns it off. Returns the previous interval. */
export function setProgressInterval(ms: number): number {
  const previous = progress.intervalMs;
  progress.intervalMs = ms;
  return previous;
}

export async function step<T>(who: string, title: string, fn: () => Promise<T>): Promise<T> {
  log(who, `${title}...`);
  const start = performance.now();
  depth++;
  const ended = progress.begin(who, title);
  try {
    const value = await (stepHook ? stepHook(who, title, fn) : fn());
    ended();
    depth--;
    log(who, `${title} (took ${formatMs(performance.now() - start)})`);
    return value;
  } catch (error) {
    ended();
    depth--;
    log(who, `${title} FAILED after ${formatMs(performance.now() - start)}`);
    throw error;
  }
}
