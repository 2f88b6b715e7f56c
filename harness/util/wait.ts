import { setTimeout as sleep } from 'node:timers/promises';
import { type Duration, toMs } from './duration.js';
import { TimeoutError } from './errors.js';

export interface WaitOptions {
  /** What is being waited for, as it should read in "timed out waiting for ...". */
  what: string;
  /** @default '60s' */
  timeout?: Duration;
  /** Pause between tries. @default '250ms' */
  interval?: Duration;
  /** Extra context for the timeout error (machine name, command, ...). */
  context?: Record<string, unknown>;
  signal?: AbortSignal;
  /** When this settles, the pause then under way ends at once (once): a try follows the event, not the clock. */
  wake?: Promise<unknown>;
}

/** One try's verdict: `done` ends the wait with `value`; otherwise `observation` says what was seen. */
export type Attempt<T> = { done: true; value: T } | { done: false; observation: string };

/**
 * The one retry primitive: call `probe` until it reports done or the deadline passes. The probe is told
 * when it is on its last try so it can gather more detail; the timeout error carries its last observation.
 */
export async function waitUntil<T>(probe: (lastTry: boolean) => Promise<Attempt<T>>, options: WaitOptions): Promise<T> {
  const { what, timeout = '60s', interval = '250ms', context = {}, signal } = options;
  let wake = options.wake;
  const timeoutMs = toMs(timeout);
  const intervalMs = toMs(interval);
  const deadline = Date.now() + timeoutMs;
  let observation = '';
  for (;;) {
    signal?.throwIfAborted();
    const lastTry = Date.now() + intervalMs >= deadline;
    const attempt = await probe(lastTry);
    if (attempt.done) return attempt.value;
    observation = attempt.observation;
    if (lastTry || Date.now() >= deadline) throw new TimeoutError(what, timeoutMs, observation, context);
    const pauseMs = Math.min(intervalMs, Math.max(0, deadline - Date.now()));
    if (wake === undefined) {
      await sleep(pauseMs, undefined, { signal });
      continue;
    }
    const woken = await pauseUntilWoken(pauseMs, wake, signal);
    if (woken) wake = undefined;
  }
}

/** Sleep `ms`, or less if `wake` settles first (then true). Aborting `signal` rejects, as `sleep` does. */
async function pauseUntilWoken(ms: number, wake: Promise<unknown>, signal: AbortSignal | undefined): Promise<boolean> {
  const pause = new AbortController();
  const stop = (): void => pause.abort(signal?.reason);
  signal?.addEventListener('abort', stop, { once: true });
  try {
    const woken = wake.then(() => true, () => true);
    return await Promise.race([sleep(ms, false, { signal: pause.signal }), woken]);
  } finally {
    signal?.removeEventListener('abort', stop);
    pause.abort();
  }
}
