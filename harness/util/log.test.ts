import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type StepHook, setLogSink, setProgressInterval, setStepHook, step } from './log.js';

describe('step', () => {
  let lines: string[];
  let previousSink: ReturnType<typeof setLogSink>;
  beforeEach(() => {
    lines = [];
    previousSink = setLogSink((line) => lines.push(line));
  });
  afterEach(() => {
    setLogSink(previousSink);
    setStepHook(undefined);
    vi.useRealTimers();
  });

  it('prints start and end, nested, with durations', async () => {
    await step('host', 'outer', async () => {
      await step('vm', 'inner', async () => undefined);
    });
    expect(lines[0]).toBe('host: outer...');
    expect(lines[1]).toBe('  vm: inner...');
    expect(lines[2]).toMatch(/^ {2}vm: inner \(took \d+ms\)$/);
    expect(lines[3]).toMatch(/^host: outer \(took \d+ms\)$/);
  });

  it('runs the body through the step hook when one is set, and without it otherwise', async () => {
    const seen: string[] = [];
    const hook: StepHook = async (who, title, body) => {
      seen.push(`${who}: ${title}`);
      return body();
    };
    expect(setStepHook(hook)).toBeUndefined();
    expect(await step('vm', 'rebase', async () => 42)).toBe(42);
    expect(seen).toEqual(['vm: rebase']);
    expect(setStepHook(undefined)).toBe(hook);
    await step('vm', 'reboot', async () => undefined);
    expect(seen).toEqual(['vm: rebase']);
  });

  it('passes failures through the hook and says the step failed', async () => {
    setStepHook((_who, _title, body) => body());
    await expect(step('vm', 'upgrade', async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(lines.at(-1)).toMatch(/^vm: upgrade FAILED after \d+ms$/);
  });

  it('prints a progress line while a long step runs', async () => {
    vi.useFakeTimers();
    const previous = setProgressInterval(15_000);
    let finish: () => void = () => undefined;
    const running = step('host', 'chunk the rootfs into an OCI image', () => new Promise<void>((resolve) => { finish = resolve; }));
    await vi.advanceTimersByTimeAsync(31_000);
    finish();
    await running;
    expect(lines.filter((l) => l.includes('...'))).toEqual([
      'host: chunk the rootfs into an OCI image...',
      '  host: chunk the rootfs into an OCI image... 15s',
      '  host: chunk the rootfs into an OCI image... 30s',
    ]);
    setProgressInterval(previous);
  });
});
