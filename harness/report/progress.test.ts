import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ProgressTicker, formatElapsed } from './progress.js';

describe('progress', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-11-30T06:00:00Z'));
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function ticker(intervalMs = 15_000): { ticker: ProgressTicker; lines: string[] } {
    const lines: string[] = [];
    return { ticker: new ProgressTicker((who, text) => lines.push(`${who}: ${text}`), { intervalMs }), lines };
  }

  it('says every 15 s how long a running step has taken, and stops when it ends', () => {
    const { ticker: t, lines } = ticker();
    const end = t.begin('host', 'build the Debian tree (mmdebstrap bookworm)');
    vi.advanceTimersByTime(14_999);
    expect(lines).toEqual([]);
    vi.advanceTimersByTime(1);
    vi.advanceTimersByTime(30_000);
    expect(lines).toEqual([
      'host: build the Debian tree (mmdebstrap bookworm)... 15s',
      'host: build the Debian tree (mmdebstrap bookworm)... 30s',
      'host: build the Debian tree (mmdebstrap bookworm)... 45s',
    ]);
    end();
    vi.advanceTimersByTime(60_000);
    expect(lines).toHaveLength(3);
  });

  it('lets only the innermost running step speak', () => {
    const { ticker: t, lines } = ticker();
    const outer = t.begin('host', 'build reference disk (default)');
    vi.advanceTimersByTime(5_000);
    const inner = t.begin('host', 'write the filesystem image');
    vi.advanceTimersByTime(25_000); // outer ticks at 15 s (silenced), inner at 15 s (20 s since outer began)
    expect(lines).toEqual(['host: write the filesystem image... 15s']);
    inner();
    vi.advanceTimersByTime(15_000);
    expect(lines.at(-1)).toBe('host: build reference disk (default)... 45s');
    outer();
  });

  it('is silent with interval 0, and never keeps the process alive', () => {
    const { ticker: t, lines } = ticker(0);
    const end = t.begin('vm', 'booting');
    vi.advanceTimersByTime(600_000);
    expect(lines).toEqual([]);
    end();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('reads elapsed time like a clock', () => {
    expect(formatElapsed(999)).toBe('0s');
    expect(formatElapsed(45_000)).toBe('45s');
    expect(formatElapsed(125_000)).toBe('2m05s');
    expect(formatElapsed(3_725_000)).toBe('1h02m');
  });
});
