import { rmSync } from 'node:fs';
import path from 'node:path';
import AllureVitestReporter, { type AllureVitestReporterConfig } from 'allure-vitest/reporter';
import type { Reporter, TestModule, TestRunEndReason, Vitest } from 'vitest/node';
import type { SerializedError } from 'vitest';
import { cleanResults, resultsDirFor, shardOf } from './shards.js';

export interface ScopedAllureReporterOptions extends AllureVitestReporterConfig {
  /** The vitest projects whose tests become Allure results. @default ['e2e'] */
  projects?: string[];
  /**
   * Empty `resultsDir` when such a project runs, so a report shows one run. A shard (`--shard=i/n`) writes
   * to `resultsDir/shard-i-of-n` and keeps the other shards of the same count. @default true
   */
  clean?: boolean;
}

/**
 * allure-vitest, limited to some projects. vitest reporters are global (one list for every project), and
 * allure-vitest would otherwise add its setup file to the unit project and report unit tests too. Runs
 * without a reported project (`vitest run --project unit`) leave the results directory alone.
 */
export default class ScopedAllureReporter implements Reporter {
  #inner: AllureVitestReporter | undefined;
  readonly #projects: readonly string[];
  readonly #clean: boolean;
  readonly #resultsDir: string;
  readonly #config: AllureVitestReporterConfig;

  constructor({ projects = ['e2e'], clean = true, ...config }: ScopedAllureReporterOptions = {}) {
    this.#projects = projects;
    this.#clean = clean;
    this.#resultsDir = path.resolve(config.resultsDir ?? 'allure-results');
    this.#config = config;
  }

  onInit(vitest: Vitest): void {
    const projects = vitest.projects.filter((p) => this.#projects.includes(p.name));
    if (projects.length === 0) return;
    const shard = shardOf(vitest.config);
    if (this.#clean) {
      if (shard) cleanResults(this.#resultsDir, shard);
      else rmSync(this.#resultsDir, { recursive: true, force: true });
    }
    this.#inner = new AllureVitestReporter({ ...this.#config, resultsDir: resultsDirFor(this.#resultsDir, shard) });
    // allure-vitest reads `vitest.projects` to add its setup file and runner: show it only ours.
    const scoped = new Proxy(vitest, { get: (target, key) => (key === 'projects' ? projects : Reflect.get(target, key)) });
    this.#inner.onInit(scoped);
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>, _errors: ReadonlyArray<SerializedError>, _reason: TestRunEndReason): void {
    this.#inner?.onTestRunEnd(modules.filter((m) => this.#projects.includes(m.project.name)));
  }
}
