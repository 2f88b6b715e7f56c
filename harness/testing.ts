import { test as base } from 'vitest';
import type { DiskDescription } from './disk/types.js';
import { OstreeDriver } from './guest/ostree-driver.js';
import { type BootOptions, startMachine } from './machines.js';
import { type MetricUnit, recordMetric } from './report/metrics.js';
import type { Machine } from './vm/index.js';

export interface ScenarioContext {
  /** Boot a disk; the machine is disposed when the test ends, whether it passed, failed or timed out. */
  boot(disk: DiskDescription, name: string, options?: BootOptions): Promise<Machine>;
  /** Record a metric of this scenario (written to reports/metrics.json at the end of the run). */
  metric(name: string, value: number, unit: MetricUnit): void;
}

/** vitest's `test`, extended with machines the harness owns and cleans up. */
export const scenario = base.extend<ScenarioContext>({
  // biome-ignore lint/correctness/noEmptyPattern: vitest fixtures take their dependencies by destructuring.
  boot: async ({}, use) => {
    const machines: Machine[] = [];
    await use(async (disk, name, options) => {
      const machine = await startMachine(disk, name, options);
      machines.push(machine);
      return machine;
    });
    await Promise.all(machines.map((m) => m.dispose()));
  },
  metric: async ({ task }, use) => {
    await use((name, value, unit) => {
      recordMetric(name, value, unit, task.name);
    });
  },
});

/** The ostree state of a machine, read through the harness's parsers. */
export function ostreeOf(machine: Machine): OstreeDriver {
  return new OstreeDriver(machine);
}
