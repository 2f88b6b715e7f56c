import { describe, expect, it } from 'vitest';
import { ancestorPids, isRunning, parentFromStat } from './ancestors.js';

describe('parentFromStat', () => {
  it('reads the parent pid even when the command name holds spaces and parentheses', () => {
    expect(parentFromStat('4242 (node) S 4200 4242 4200 0 -1 4194560')).toBe(4200);
    expect(parentFromStat('4243 (a) b (c)) R 17 4243 17 0 -1')).toBe(17);
  });

  it('gives undefined for text that is not a stat line', () => {
    expect(parentFromStat('')).toBeUndefined();
  });
});

describe('ancestorPids', () => {
  it('starts at this process\'s parent', () => {
    const chain = ancestorPids();
    expect(chain[0]).toBe(process.ppid);
    expect(chain).not.toContain(1);
  });
});

describe('isRunning', () => {
  it('is true for this process and false for a pid that does not exist', () => {
    expect(isRunning(process.pid)).toBe(true);
    expect(isRunning(2 ** 22 + 1)).toBe(false);
  });
});
