/**
 * Every error the harness throws on purpose is a `LayercheckError`: a short message a user can act on,
 * a machine-readable `code`, and the context that explains it. Two families are kept apart, as in the
 * NixOS test driver: the scenario's assertion failed (`AssertionFailure`, thrown by `succeed`/`fail` and
 * scenario checks) or the infrastructure broke (everything else).
 */
export class LayercheckError extends Error {
  readonly code: string;
  readonly context: Readonly<Record<string, unknown>>;

  constructor(code: string, message: string, context: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.context = context;
  }
}

/** A condition a test waited for did not hold before its deadline. */
export class TimeoutError extends LayercheckError {
  constructor(what: string, timeoutMs: number, lastObservation: string, context: Record<string, unknown> = {}) {
    super(
      'E_TIMEOUT',
      `timed out after ${formatMs(timeoutMs)} waiting for ${what}; last observation: ${lastObservation || '(none)'}`,
      { ...context, what, timeoutMs, lastObservation },
    );
  }
}

/** A required host tool or input is missing or wrong; the message says what to do. */
export class SetupError extends LayercheckError {
  constructor(message: string, context: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super('E_SETUP', message, context, options);
  }
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)}s`;
  return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
}

/** Quote a value for an error message the way execa's validators do: "got `-1` (number)". */
export function describeValue(value: unknown): string {
  return `\`${String(value)}\` (${value === null ? 'null' : typeof value})`;
}
