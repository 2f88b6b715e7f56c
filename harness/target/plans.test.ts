import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SCENARIO_PLANS } from '../../scenarios/plans.js';

const DIR = new URL('../../scenarios/', import.meta.url);
const files = readdirSync(DIR).filter((f) => f.endsWith('.e2e.ts'));

/** `scenario('title', ...)` calls of a scenario file (titles in single quotes, as the files write them). */
function titles(source: string): string[] {
  return [...source.matchAll(/\bscenario\(\s*'((?:[^'\\]|\\.)*)'/g)].map((m) => (m[1] ?? '').replace(/\\(.)/g, '$1'));
}

describe('scenarios/plans.ts, which the dry run prints', () => {
  it.each(files)('has one plan per scenario of %s, in order', (file) => {
    const source = readFileSync(new URL(file, DIR), 'utf8');
    expect(SCENARIO_PLANS.filter((p) => p.file === file).map((p) => p.title)).toEqual(titles(source));
  });

  it('plans only scenarios that exist, and machines their files boot', () => {
    for (const plan of SCENARIO_PLANS) {
      expect(files).toContain(plan.file);
      const source = readFileSync(new URL(plan.file, DIR), 'utf8');
      for (const machine of plan.machines) expect(source, `${plan.file} boots ${machine.name}`).toContain(`'${machine.name}'`);
    }
  });
});
