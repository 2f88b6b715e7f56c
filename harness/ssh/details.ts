import { type Attempt, type Duration, TimeoutError, type WaitOptions, toMs, waitUntil } from '../util/index.js';
import type { DescribeFailure } from './types.js';

/** The owner's extra description for a failure. Guarded: a broken describer must not hide the real failure. */
export async function failureDetails(describeFailure: DescribeFailure | undefined): Promise<string | undefined> {
  if (!describeFailure) return undefined;
  try {
    return await describeFailure();
  } catch (error) {
    return `(describing the failure failed too: ${error instanceof Error ? error.message : String(error)})`;
  }
}

/** `waitUntil`, whose timeout error also carries `describeFailure`'s words after the last observation. */
export async function waitDescribed<T>(
  probe: (lastTry: boolean) => Promise<Attempt<T>>,
  options: WaitOptions & { timeout: Duration },
  describeFailure: DescribeFailure | undefined,
): Promise<T> {
  let last = '';
  try {
    return await waitUntil(async (lastTry) => {
      const attempt = await probe(lastTry);
      if (!attempt.done) last = attempt.observation;
      return attempt;
    }, options);
  } catch (error) {
    if (!(error instanceof TimeoutError) || !describeFailure) throw error;
    const details = await failureDetails(describeFailure);
    throw new TimeoutError(options.what, toMs(options.timeout), details ? `${last}\n${details}` : last, options.context);
  }
}
