import { describe, expect, it } from 'vitest';
import { UNPACKAGED, planChunks } from './chunk-plan.js';

const pkg = (name: string, size: number) => ({ name, files: [`usr/share/${name}/data`], size });

describe('planChunks', () => {
  const packages = [pkg('kernel', 400), pkg('libc', 50), pkg('perl', 40), pkg('a', 5), pkg('b', 4), pkg('c', 3), pkg('d', 2), pkg('e', 1)];
  const unpackaged = { name: UNPACKAGED, files: ['usr/etc/hostname'], size: 1 };

  it('gives the largest packages a layer each and packs the rest by size', () => {
    const chunks = planChunks(packages, unpackaged, 6);
    expect(chunks.map((c) => c.components)).toEqual([['kernel'], ['libc'], ['perl'], ['a', 'd', 'e'], ['b', 'c'], [UNPACKAGED]]);
    expect(chunks.map((c) => c.size)).toEqual([400, 50, 40, 8, 7, 1]);
  });

  it('never makes more layers than asked and keeps every file exactly once', () => {
    for (const max of [2, 3, 5, 8, 12, 40]) {
      const chunks = planChunks(packages, unpackaged, max);
      expect(chunks.length).toBeLessThanOrEqual(max);
      const files = chunks.flatMap((c) => c.files).sort();
      expect(files).toEqual([...packages.flatMap((p) => p.files), ...unpackaged.files].sort());
    }
  });

  it('is independent of input order (ties break on names)', () => {
    const shuffled = [pkg('y', 3), pkg('x', 3), ...packages].reverse();
    const again = [...shuffled].sort(() => 0.5 - Math.random());
    expect(planChunks(again, unpackaged, 7)).toEqual(planChunks(shuffled, unpackaged, 7));
  });

  it('leaves out packages without files and an empty unpackaged chunk', () => {
    const chunks = planChunks([pkg('a', 1), { name: 'meta', files: [], size: 0 }], { name: UNPACKAGED, files: [], size: 0 }, 4);
    expect(chunks.map((c) => c.components)).toEqual([['a']]);
  });

  it('refuses fewer than two layers, quoting the value', () => {
    expect(() => planChunks(packages, unpackaged, 1)).toThrow('maxLayers must be an integer >= 2, got `1` (number)');
  });
});
