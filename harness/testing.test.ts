import { afterEach, describe, expect, it, vi } from 'vitest';

const attached = vi.hoisted(() => [] as Array<{ name: string; content: string; type: string }>);
vi.mock('allure-js-commons', () => ({
  attachment: async (name: string, content: string | Buffer, options: { contentType: string }) => {
    attached.push({ name, content: content.toString(), type: options.contentType });
  },
  parameter: async () => undefined,
  step: async (_name: string, body: () => Promise<unknown>) => body(),
}));

const { enableAllure } = await import('./report/allure.js');
const { attachCommandOutput, attachProxyRequests, attachRefs, formatRefs, stepWithRefs, worldsForFile } = await import('./testing.js');

const LAYER = 'ostree/container/blob/sha256_3A_2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae';
const REFS = `ostree/1/1/0\n${LAYER}\nrefos:refos/x86_64/stable\n`;

describe('scenario report helpers', () => {
  afterEach(() => {
    enableAllure(false);
    attached.length = 0;
  });

  it('attaches ostree refs sorted into kinds, with the raw listing', async () => {
    enableAllure();
    await attachRefs('create-default, before rebase', REFS);
    expect(attached).toHaveLength(1);
    expect(attached[0]!.name).toBe('ostree refs: create-default, before rebase');
    expect(attached[0]!.content).toContain('layer refs (digests) (1):\n  sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae\n');
    expect(attached[0]!.content).toContain('merged image refs (0):\n');
    expect(attached[0]!.content).toContain('other refs (2):\n  ostree/1/1/0\n  refos:refos/x86_64/stable\n');
    expect(attached[0]!.content).toContain(`as printed by \`ostree refs\`:\n${REFS}`);
  });

  it('attaches parsed refs, and raw refs it cannot parse with the reason', async () => {
    enableAllure();
    await attachRefs('after', { layers: ['sha256:ab'], images: [], other: [] });
    await attachRefs('garbage', 'not a ref at all!');
    expect(attached[0]!.content).toBe(formatRefs({ layers: ['sha256:ab'], images: [], other: [] }));
    expect(attached[1]!.content).toMatch(/^\(could not parse: /);
  });

  it('attaches what the updater printed: command, exit code, stdout and stderr', async () => {
    enableAllure();
    await attachCommandOutput('updater: rebase', { command: 'refos-update rebase x', exitCode: 1, stdout: 'layers needed: 1 (5.2 MB)', stderr: 'error: 404', durationMs: 1234.5 });
    await attachCommandOutput('updater: killed', { command: 'refos-update upgrade', exitCode: null, signal: 'SIGKILL', stdout: '', stderr: '' });
    expect(attached[0]!.content).toBe('$ refos-update rebase x\nexit code: 1, took 1235 ms\n\n--- stdout ---\nlayers needed: 1 (5.2 MB)\n--- stderr ---\nerror: 404\n');
    expect(attached[1]!.content).toContain('exit code: none (killed by SIGKILL)');
  });

  it('attaches the proxy request table as CSV', async () => {
    enableAllure();
    await attachProxyRequests('rebase', { toCsv: () => 'id,path\n1,/v2/\n' }, [{ id: 1 }]);
    expect(attached.map((a) => [a.name, a.type])).toEqual([['proxy requests: rebase', 'text/csv'], ['proxy requests: rebase (json)', 'application/json']]);
  });

  it('wraps a step in refs snapshots taken before and after it', async () => {
    enableAllure();
    const outputs = [REFS, `${REFS}ostree/1/1/1\n`];
    const machine = { name: 'rebase-default', succeed: async () => outputs.shift() ?? '' };
    const { value, before, after } = await stepWithRefs(machine, 'rebase to the derived image', async () => 'rebased');
    expect(value).toBe('rebased');
    expect(before.other).toEqual(['ostree/1/1/0', 'refos:refos/x86_64/stable']);
    expect(after.other).toContain('ostree/1/1/1');
    expect(attached.map((a) => a.name)).toEqual([
      'ostree refs: rebase-default, before rebase to the derived image',
      'ostree refs: rebase-default, after rebase to the derived image',
    ]);
  });
});

describe('worldsForFile', () => {
  const events: string[] = [];
  const world = (name: string) => ({
    dispose: async () => {
      events.push(`dispose ${name}`);
    },
  });

  describe('a scenario file with two worlds', () => {
    worldsForFile(async (keep) => {
      events.push('start');
      keep(world('ostree'));
      keep(world('registry'));
    });
    it('has them started before its scenarios', () => {
      expect(events).toEqual(['start']);
    });
  });

  it('disposes of them after the scenarios, the last started first', () => {
    expect(events).toEqual(['start', 'dispose registry', 'dispose ostree']);
  });
});
