import { describe, it, expect } from 'vitest';
import { provenance, sample, sampleNames } from './testdata/samples.js';

describe('testdata', () => {
  const names = sampleNames();

  it('holds samples of every format', () => {
    for (const prefix of ['refs-', 'pull-', 'layers-', 'status-']) {
      expect(names.filter((n) => n.startsWith(prefix)).length).toBeGreaterThanOrEqual(3);
    }
  });

  it.each(names)('%s names where it came from', (name) => {
    const { source, what } = provenance(name);
    // A repository path or an issue/PR URL, or the seed session: something a reader can go and check.
    expect(source).toMatch(/https:\/\/github\.com\/[\w.-]+\/[\w.-]+\/(issues|pull)\/\d+|^[\w.-]+\/[\w.-]+ \S+|^shared\/samples\//);
    expect(what).toBeTruthy();
    expect(sample(name).trim()).not.toBe('');
  });
});
