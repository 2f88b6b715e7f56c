import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

/** What a report must show of one Allure result: its name, status and every attachment's name. */
export interface ResultSummary {
  name: string;
  status: string;
  /** Attachment names of the test and of all its (nested) steps, in order. */
  attachments: string[];
}

interface RawStep {
  name?: string;
  status?: string;
  attachments?: Array<{ name?: string }>;
  steps?: RawStep[];
}

function attachmentsOf(step: RawStep): string[] {
  return [
    ...(step.attachments ?? []).map((a) => a.name ?? ''),
    ...(step.steps ?? []).flatMap(attachmentsOf),
  ];
}

/** The test results (`*-result.json`) of an Allure results directory, oldest file order aside: sorted by name. */
export function readAllureResults(dir: string): ResultSummary[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('-result.json'))
    .map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as RawStep)
    .map((r) => ({ name: r.name ?? '', status: r.status ?? 'unknown', attachments: attachmentsOf(r) }))
    .sort((a, b) => a.name.localeCompare(b.name));
}
