import { readFile } from 'node:fs/promises';
import * as allure from 'allure-js-commons';

/**
 * The harness's window onto the Allure report. Everything here is a no-op until the e2e setup file
 * (`harness/report/allure-setup.ts`) enables it, so unit tests, `bin/` scripts and anything else that
 * runs harness code outside an Allure-reported vitest run never touch Allure.
 */
let enabled = false;

/** Called by the e2e project's setup file, inside a vitest worker that runs under allure-vitest. */
export function enableAllure(on = true): void {
  enabled = on;
}

export function allureEnabled(): boolean {
  return enabled;
}

/** Attach text to the current test (or step): command output, a console log, a refs listing. */
export async function attachText(name: string, text: string, contentType = 'text/plain'): Promise<void> {
  if (!enabled) return;
  await allure.attachment(name, text, { contentType, encoding: 'utf8' });
}

/** Attach a value as pretty-printed JSON. */
export async function attachJson(name: string, value: unknown): Promise<void> {
  await attachText(name, `${JSON.stringify(value, null, 2)}\n`, 'application/json');
}

/** Attach CSV text; Allure shows it as a table. */
export async function attachCsv(name: string, csv: string): Promise<void> {
  await attachText(name, csv, 'text/csv');
}

/**
 * Attach a file's content as it is now (read at once: machine logs and temp dirs may be gone by the time
 * the reporter writes results). A file that cannot be read becomes a text attachment saying why.
 */
export async function attachFile(name: string, file: string, contentType = 'text/plain'): Promise<void> {
  if (!enabled) return;
  let content: Buffer;
  try {
    content = await readFile(file);
  } catch (error) {
    await attachText(name, `could not read ${file}: ${(error as Error).message}\n`);
    return;
  }
  await allure.attachment(name, content, { contentType });
}

/** A name = value shown in the test's parameters (metrics, machine names, accelerator). */
export async function reportParameter(name: string, value: string | number): Promise<void> {
  if (!enabled) return;
  await allure.parameter(name, String(value));
}

/** Run `body` as a nested, timed Allure step (the hook `step()` of harness/util/log.ts calls). */
export async function allureStep<T>(name: string, body: () => Promise<T>): Promise<T> {
  if (!enabled) return body();
  return allure.step(name, body);
}
