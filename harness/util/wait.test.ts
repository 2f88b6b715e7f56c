import { describe, expect, test } from 'vitest';
import { TimeoutError } from './errors.js';
import { waitUntil } from './wait.js';

describe('waitUntil', () => {
  test('a try that reports done ends the wait with its value', async () => {
    let tries = 0;
    const value = await waitUntil(async () => (++tries < 3 ? { done: false, observation: `try ${tries}` } : { done: true, value: 'ready' }), { what: 'ready', interval: '1ms' });
    expect(value).toBe('ready');
    expect(tries).toBe(3);
  });

  test('the timeout error names what was awaited and the last observation', async () => {
    let tries = 0;
    const failure = await waitUntil(async () => ({ done: false, observation: `try ${++tries}` }), { what: 'the thing', timeout: '30ms', interval: '5ms' }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(TimeoutError);
    expect(String((failure as Error).message)).toContain('the thing');
    expect(String((failure as Error).message)).toContain(`try ${tries}`);
  });

  test('wake ends the pause under way: the next try follows the event, not the interval', async () => {
    let tries = 0;
    let wakeUp = (): void => {};
    const wake = new Promise<void>((resolve) => { wakeUp = resolve; });
    const waiting = waitUntil(async () => {
      tries++;
      if (tries === 1) setTimeout(wakeUp, 10);
      return tries === 2 ? { done: true, value: tries } : { done: false, observation: 'not yet' };
    }, { what: 'woken', timeout: '10m', interval: '5m', wake });
    // With a 5-minute pause the test's own 5 s timeout would fail it, had the wake not cut the pause.
    expect(await waiting).toBe(2);
  }, 5_000);

  test('wake counts once: later pauses last the interval again', async () => {
    const tries: number[] = [];
    const failure = await waitUntil(async () => {
      tries.push(Date.now());
      return { done: false, observation: 'never' };
    }, { what: 'never', timeout: '250ms', interval: '100ms', wake: Promise.resolve() }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(TimeoutError);
    // Woken once (no pause), then 100 ms pauses: 3 or 4 tries in 250 ms, not thousands.
    expect(tries.length).toBeGreaterThanOrEqual(2);
    expect(tries.length).toBeLessThanOrEqual(5);
  });

  test('an abort during a pause that a wake could end still rejects', async () => {
    const controller = new AbortController();
    const never = new Promise<void>(() => {});
    const waiting = waitUntil(async () => {
      setTimeout(() => controller.abort(new Error('stopped')), 5);
      return { done: false, observation: 'waiting' };
    }, { what: 'aborted', timeout: '10m', interval: '5m', wake: never, signal: controller.signal });
    await expect(waiting).rejects.toThrow();
  }, 5_000);
});
