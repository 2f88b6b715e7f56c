import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, test as base, beforeAll } from 'vitest';
import type { DiskOptions } from './disk/types.js';
import type { UpdateDriver } from './guest/index.js';
import { OstreeDriver } from './guest/ostree-driver.js';
import { type BootOptions, CONSOLE_LOG_DIR, startMachine } from './machines.js';
import { type ParsedRefs, parseRefs } from './ostree/index.js';
import { allureEnabled, attachCsv, attachJson, attachText, reportParameter } from './report/allure.js';
import { formatMetricValue } from './report/gate.js';
import { type MetricUnit, recordMetric, recordRunAttribute } from './report/metrics.js';
import type { ExecResult } from './ssh/index.js';
import { currentTarget } from './target/index.js';
import type { BootableDisk, Target, TargetDisk, TargetNeed } from './target/types.js';
import { LayercheckError } from './util/errors.js';
import { log, step } from './util/log.js';
import type { Machine } from './vm/index.js';

export interface ScenarioContext {
  /**
   * Boot a disk; the machine is disposed when the test ends, whether it passed, failed or timed out.
   * Its serial console log of this test (and, on failure, its last lines) is attached to the report.
   */
  boot(disk: BootableDisk, name: string, options?: BootOptions): Promise<Machine>;
  /** Record a metric of this scenario (reports/metrics.json, history, and a parameter of the Allure result). */
  metric(name: string, value: number, unit: MetricUnit): void;
  /** The run's target (`E2E_TARGET`, ...): the reference OS unless configured otherwise. */
  target: Target;
  /**
   * The target's disk with `options` merged over the defaults (`disk()` is the default disk). When the
   * target cannot offer it (a variant of a finished `E2E_DISK`), the test is skipped with the target's reason.
   */
  disk(options?: Partial<DiskOptions>): Promise<TargetDisk>;
  /** Skip the test, with the target's reason, unless the target offers `need`. */
  needs(need: TargetNeed): void;
  /** The target's update driver (refos-update, or rpm-ostree through sudo) for a booted machine. */
  driver(machine: Machine): UpdateDriver;
}

/** Lines of the console shown on their own when a scenario fails. */
const FAILURE_TAIL_LINES = 60;

/** vitest's `test`, extended with machines the harness owns and cleans up. */
export const scenario = base.extend<ScenarioContext>({
  boot: async ({ task }, use) => {
    const machines: Array<{ machine: Machine; logOffset: number; predictedLog: string }> = [];
    await use(async (disk, name, options) => {
      // Console logs are appended to across runs: remember where this machine's lines start.
      const predictedLog = path.join(options?.logDir ?? CONSOLE_LOG_DIR, `${name}.console.log`);
      const logOffset = await stat(predictedLog).then((s) => s.size, () => 0);
      let machine: Machine;
      try {
        machine = await startMachine(disk, name, options);
      } catch (error) {
        // A boot that failed: its console says why (the error carries the tail; the report gets it all).
        await attachConsoleLog(name, predictedLog, logOffset);
        throw error;
      }
      machines.push({ machine, logOffset, predictedLog });
      if (machine.accel) {
        recordRunAttribute('accel', machine.accel);
        await reportParameter(`${name} accel`, machine.accel);
      }
      return machine;
    });
    // kola's console check: a known failure anywhere on a console fails the scenario, even one that passed.
    const consoleFailures = machines.flatMap(({ machine }) => machine.consoleFailures.map((f) => `${machine.name}: ${f.description}: console printed ${JSON.stringify(f.line)}`));
    const failed = task.result?.state === 'fail' || (task.result?.errors?.length ?? 0) > 0 || consoleFailures.length > 0;
    const tails = machines.map(({ machine }) => machine.consoleTail(FAILURE_TAIL_LINES));
    await Promise.all(machines.map(({ machine }) => machine.dispose()));
    for (const [i, { machine, logOffset, predictedLog }] of machines.entries()) {
      await attachConsoleLog(machine.name, machine.consoleLogPath, machine.consoleLogPath === predictedLog ? logOffset : 0);
      if (failed) await attachText(`${machine.name}: last ${FAILURE_TAIL_LINES} console lines`, `${(tails[i] ?? []).join('\n')}\n`);
    }
    if (consoleFailures.length > 0) throw new LayercheckError('E_CONSOLE_FAILURE', `known console failure: ${consoleFailures.join('; ')}`, { consoleFailures });
  },
  target: async ({}, use) => {
    const target = currentTarget();
    await reportParameter('target', target.description);
    await use(target);
  },
  disk: async ({ target, skip }, use) => {
    await use(async (options = {}) => {
      const reason = target.whyNot({ disk: options });
      if (reason !== undefined) skip(reason);
      return target.disk(options);
    });
  },
  needs: async ({ target, skip }, use) => {
    await use((need) => {
      const reason = target.whyNot(need);
      if (reason !== undefined) skip(reason);
    });
  },
  driver: async ({ target }, use) => {
    await use((machine) => target.driver(machine));
  },
  metric: async ({ task }, use) => {
    await use((name, value, unit) => {
      recordMetric(name, value, unit, task.name);
      reportParameter(name, formatMetricValue(value, unit)).catch((error: Error) => log('host', `could not report metric ${name} to Allure: ${error.message}`));
    });
  },
});

/** The ostree state of a machine, read through the harness's parsers. */
export function ostreeOf(machine: Machine): OstreeDriver {
  return new OstreeDriver(machine);
}

/** `ostree refs`, sorted into kinds, as it reads in a report. */
export function formatRefs(refs: ParsedRefs): string {
  const section = (title: string, items: readonly string[]): string => `${title} (${items.length}):\n${items.map((i) => `  ${i}\n`).join('')}`;
  return [section('layer refs (digests)', refs.layers), section('merged image refs', refs.images), section('other refs', refs.other)].join('\n');
}

/**
 * Attach a snapshot of `ostree refs` to the report, under `ostree refs: <label>` (e.g. `before rebase`):
 * pass what `ostree refs` printed, or refs already parsed.
 */
export async function attachRefs(label: string, refs: ParsedRefs | string): Promise<void> {
  if (typeof refs === 'string') {
    let parsed: string;
    try {
      parsed = formatRefs(parseRefs(refs));
    } catch (error) {
      parsed = `(could not parse: ${(error as Error).message})\n`;
    }
    await attachText(`ostree refs: ${label}`, `${parsed}\nas printed by \`ostree refs\`:\n${refs}`);
  } else {
    await attachText(`ostree refs: ${label}`, formatRefs(refs));
  }
}

/** What refs snapshots need of a machine. */
export type RefsShell = Pick<Machine, 'name' | 'succeed'>;

/** Read `ostree refs` on a machine, attach it under `ostree refs: <machine>, <label>`, and return it parsed. */
export async function snapshotRefs(machine: RefsShell, label: string): Promise<ParsedRefs> {
  const output = await machine.succeed(['ostree', 'refs']);
  await attachRefs(`${machine.name}, ${label}`, output);
  return parseRefs(output);
}

/**
 * A timed step of a machine (`rebase to the derived image`) with `ostree refs` snapshots attached before
 * and after it; returns the body's value and both snapshots. The after-snapshot is taken only if the body
 * succeeded (a failed step leaves the machine as it is for the console log and the error).
 */
export async function stepWithRefs<T>(machine: RefsShell, title: string, body: () => Promise<T>): Promise<{ value: T; before: ParsedRefs; after: ParsedRefs }> {
  return step(machine.name, title, async () => {
    const before = await snapshotRefs(machine, `before ${title}`);
    const value = await body();
    const after = await snapshotRefs(machine, `after ${title}`);
    return { value, before, after };
  });
}

/**
 * Attach what the updater (or any guest command) printed, e.g. `attachCommandOutput('updater: rebase', result)`:
 * the command, its exit code, stdout and stderr. A plain string is attached as it is.
 */
export async function attachCommandOutput(label: string, output: string | Pick<ExecResult, 'command' | 'exitCode' | 'stdout' | 'stderr'> & { signal?: string; durationMs?: number }): Promise<void> {
  if (typeof output === 'string') return attachText(label, output);
  const head = [
    `$ ${output.command}`,
    `exit code: ${output.exitCode ?? `none${output.signal ? ` (killed by ${output.signal})` : ''}`}${output.durationMs === undefined ? '' : `, took ${Math.round(output.durationMs)} ms`}`,
  ];
  await attachText(label, `${head.join('\n')}\n\n--- stdout ---\n${output.stdout}\n--- stderr ---\n${output.stderr}\n`);
}

/** What the report needs of the accounting proxy: its per-request table (harness/net AccountingProxy). */
export interface RequestTable {
  readonly name?: string;
  toCsv(): string;
}

/**
 * Attach the proxy's per-request table (one row per request: path, status, body and wire bytes, blob digest,
 * ostree object, ...) as CSV, which Allure shows as a table; `records`, when given, also as JSON.
 */
export async function attachProxyRequests(label: string, proxy: RequestTable, records?: readonly object[]): Promise<void> {
  await attachCsv(`proxy requests: ${label}`, proxy.toCsv());
  if (records) await attachJson(`proxy requests: ${label} (json)`, records);
}

/** The part of a machine's console log written since `offset` (this test's boots), attached to the report. */
async function attachConsoleLog(name: string, file: string, offset: number): Promise<void> {
  if (!allureEnabled()) return;
  try {
    const handle = await open(file);
    try {
      const { size } = await handle.stat();
      const start = offset <= size ? offset : 0;
      const buffer = Buffer.alloc(size - start);
      await handle.read(buffer, 0, buffer.length, start);
      await attachText(`${name}: serial console`, buffer.toString('utf8'));
    } finally {
      await handle.close();
    }
  } catch (error) {
    await attachText(`${name}: serial console`, `could not read ${file}: ${(error as Error).message}\n`);
  }
}

/** A host-side service a scenario file's guests reach (harness/worlds.ts). */
interface World {
  dispose(): Promise<void>;
}

/**
 * Start a scenario file's worlds before its scenarios (unless the target lacks the reference content
 * they are built from: each scenario then skips, saying why) and dispose of them after, last started
 * first. `start` passes every world it starts through `keep`, so that one started before a failing
 * second is still disposed of.
 */
export function worldsForFile(start: (keep: <W extends World>(world: W) => W) => Promise<void>): void {
  const started: World[] = [];
  beforeAll(async () => {
    if (currentTarget().whyNot('reference-content') !== undefined) return;
    await start((world) => {
      started.push(world);
      return world;
    });
  });
  afterAll(async () => {
    for (const world of started.reverse()) await world.dispose();
  });
}
