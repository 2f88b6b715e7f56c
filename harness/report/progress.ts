/**
 * Keeps a long step from looking hung: while a step runs, every `intervalMs` it prints
 * `host: build the Debian tree... 45s`. Only the innermost running step (the last one begun that has not
 * ended) speaks, so nested steps do not print a line each. Plain lines rather than a redrawn one: they
 * read the same in a terminal, a CI log and a file, and never fight with console lines of machines.
 */
export interface ProgressOptions {
  /** How often a running step says how long it has taken. 0 turns progress lines off. @default 15_000 */
  intervalMs?: number;
  /** The clock (tests pass a fake one). @default Date.now */
  now?: () => number;
}

export type ProgressPrint = (who: string, text: string) => void;

interface ActiveStep {
  who: string;
  title: string;
  start: number;
}

export const DEFAULT_PROGRESS_INTERVAL_MS = 15_000;

export class ProgressTicker {
  readonly #print: ProgressPrint;
  readonly #now: () => number;
  #intervalMs: number;
  readonly #active: ActiveStep[] = [];

  constructor(print: ProgressPrint, { intervalMs = DEFAULT_PROGRESS_INTERVAL_MS, now = () => Date.now() }: ProgressOptions = {}) {
    this.#print = print;
    this.#now = now;
    this.#intervalMs = intervalMs;
  }

  set intervalMs(ms: number) {
    this.#intervalMs = ms;
  }

  get intervalMs(): number {
    return this.#intervalMs;
  }

  /** A step began; call the returned function when it ends (passed or failed). */
  begin(who: string, title: string): () => void {
    const step: ActiveStep = { who, title, start: this.#now() };
    this.#active.push(step);
    const timer = this.#intervalMs > 0
      ? setInterval(() => {
        if (this.#active.at(-1) === step) this.#print(step.who, `${step.title}... ${formatElapsed(this.#now() - step.start)}`);
      }, this.#intervalMs)
      : undefined;
    // Progress must never keep the process alive on its own.
    timer?.unref?.();
    return () => {
      if (timer) clearInterval(timer);
      const index = this.#active.indexOf(step);
      if (index !== -1) this.#active.splice(index, 1);
    };
  }
}

/** Whole seconds, as people say them on a clock: `45s`, `2m05s`, `1h02m`. */
export function formatElapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
