import { readdirSync, readFileSync } from 'node:fs';

/*
 * Test-only access to the captured outputs in this directory. A text sample starts with `# key: value`
 * provenance lines ended by a `#---` line; everything after that line is the output, byte for byte.
 * A JSON sample is the output itself, its provenance in the sibling `<name>.source.txt`.
 */
const DIR = new URL('./', import.meta.url);
const SEPARATOR = '\n#---\n';

export function sampleNames(): string[] {
  return readdirSync(DIR).filter((name) => /\.(?:txt|json)$/.test(name) && !name.endsWith('.source.txt'));
}

/** The captured output of sample `name`, without its provenance header. */
export function sample(name: string): string {
  const raw = readFileSync(new URL(name, DIR), 'utf8');
  if (name.endsWith('.json')) return raw;
  const at = raw.indexOf(SEPARATOR);
  if (at === -1) throw new Error(`${name}: no provenance header ended by #---`);
  return raw.slice(at + SEPARATOR.length);
}

/** The provenance of sample `name` as `key -> value` (`source`, `what`, optional `note`). */
export function provenance(name: string): Record<string, string> {
  const text = name.endsWith('.json')
    ? readFileSync(new URL(name.replace(/\.json$/, '.source.txt'), DIR), 'utf8')
    : readFileSync(new URL(name, DIR), 'utf8').split(SEPARATOR)[0] ?? '';
  const entries = text
    .split('\n')
    .map((line) => /^#? ?(\w+): (.+)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [m[1] ?? '', m[2] ?? ''] as const);
  return Object.fromEntries(entries);
}
