import { LayercheckError, describeValue } from './errors.js';

/** A duration as zx spells them: milliseconds, or a string such as `'30s'`, `'500ms'`, `'2m'`. */
export type Duration = number | `${number}ms` | `${number}s` | `${number}m`;

export function toMs(duration: Duration): number {
  if (typeof duration === 'number') {
    if (Number.isFinite(duration) && duration >= 0) return duration;
  } else {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(duration);
    if (m) return Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : 60_000);
  }
  throw new LayercheckError('E_BAD_DURATION', `a duration must be milliseconds or like '30s', got ${describeValue(duration)}`);
}
