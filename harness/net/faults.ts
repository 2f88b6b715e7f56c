import type { IncomingHttpHeaders } from 'node:http';
import { LayercheckError, describeValue } from '../util/errors.js';

/** What a fault's `match` sees of a request. */
export interface FaultRequest {
  method: string;
  /** The request target as sent (path and query). */
  path: string;
  headers: IncomingHttpHeaders;
}

/** A regular expression is tested against the request path; a function sees the whole request. */
export type FaultMatch = RegExp | ((request: FaultRequest) => boolean);

interface FaultBase {
  /** Which requests the fault applies to. @default every request */
  match?: FaultMatch;
  /** How many requests it applies to before it retires. @default unlimited */
  times?: number;
}

/**
 * A misbehaviour the proxy plays on matching requests.
 * - `reset-after-bytes`: send the status, headers and the first `bytes` body bytes, then close the
 *   connection (after those bytes are flushed, so they do arrive and are counted); the client sees a
 *   truncated response. A body of at most `bytes` bytes completes normally.
 * - `delay`: wait `ms` before forwarding the request upstream (it delays the first response byte).
 * - `refuse`: answer `status` with an empty body without contacting the upstream.
 * - `corrupt`: invert the body byte at `offset` (so a digest no longer matches); the size is unchanged.
 */
export type Fault =
  | (FaultBase & { kind: 'reset-after-bytes'; bytes: number })
  | (FaultBase & { kind: 'delay'; ms: number })
  | (FaultBase & { kind: 'refuse'; /** @default 503 */ status?: number })
  | (FaultBase & { kind: 'corrupt'; match: FaultMatch; /** Body offset of the inverted byte. @default 0 */ offset?: number });

export type FaultKind = Fault['kind'];

/** An injected fault; `remove()` (or disposing) retires it. */
export interface FaultHandle extends Disposable {
  readonly fault: Fault;
  /** Requests it has applied to so far. */
  readonly hits: number;
  remove(): void;
}

/** What the proxy does to one request: the sum of every matching fault. */
export interface FaultPlan {
  kinds: FaultKind[];
  delayMs: number;
  refuseStatus?: number;
  cutAfterBytes?: number;
  corruptOffset?: number;
}

interface Entry {
  fault: Fault;
  hits: number;
}

/** The faults injected into one proxy, in injection order. */
export class FaultSet {
  #entries: Entry[] = [];

  add(fault: Fault): FaultHandle {
    validateFault(fault);
    const entry: Entry = { fault, hits: 0 };
    this.#entries.push(entry);
    const remove = (): void => {
      this.#entries = this.#entries.filter((e) => e !== entry);
    };
    return {
      fault,
      get hits() {
        return entry.hits;
      },
      remove,
      [Symbol.dispose]: remove,
    };
  }

  clear(): void {
    this.#entries = [];
  }

  /** Every live fault matching `request` applies (and uses up one of its `times`). */
  plan(request: FaultRequest): FaultPlan {
    const plan: FaultPlan = { kinds: [], delayMs: 0 };
    for (const entry of [...this.#entries]) {
      const { fault } = entry;
      if (!matches(fault.match, request)) continue;
      entry.hits++;
      if (fault.times !== undefined && entry.hits >= fault.times) this.#entries = this.#entries.filter((e) => e !== entry);
      plan.kinds.push(fault.kind);
      switch (fault.kind) {
        case 'delay':
          plan.delayMs += fault.ms;
          break;
        case 'refuse':
          plan.refuseStatus ??= fault.status ?? 503;
          break;
        case 'reset-after-bytes':
          plan.cutAfterBytes = Math.min(plan.cutAfterBytes ?? Infinity, fault.bytes);
          break;
        case 'corrupt':
          plan.corruptOffset ??= fault.offset ?? 0;
          break;
      }
    }
    plan.kinds.sort((a, b) => (a === 'delay' ? -1 : b === 'delay' ? 1 : 0));
    return plan;
  }
}

function matches(match: FaultMatch | undefined, request: FaultRequest): boolean {
  if (match === undefined) return true;
  if (match instanceof RegExp) {
    match.lastIndex = 0;
    return match.test(request.path);
  }
  return match(request);
}

function validateFault(fault: Fault): void {
  const bad = (option: string, expected: string, value: unknown): never => {
    throw new LayercheckError('E_BAD_FAULT', `fault \`${fault.kind}\`: \`${option}\` must be ${expected}, got ${describeValue(value)}`, { fault: fault.kind, option });
  };
  const isCount = (n: unknown): boolean => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
  if (fault.times !== undefined && (!isCount(fault.times) || fault.times < 1)) bad('times', 'a positive integer', fault.times);
  if (fault.match !== undefined && !(fault.match instanceof RegExp) && typeof fault.match !== 'function') bad('match', 'a RegExp or a function', fault.match);
  switch (fault.kind) {
    case 'reset-after-bytes':
      if (!isCount(fault.bytes)) bad('bytes', 'a non-negative integer', fault.bytes);
      break;
    case 'delay':
      if (typeof fault.ms !== 'number' || !Number.isFinite(fault.ms) || fault.ms < 0) bad('ms', 'a non-negative number', fault.ms);
      break;
    case 'refuse':
      if (fault.status !== undefined && (!isCount(fault.status) || fault.status < 200 || fault.status > 599)) bad('status', 'an HTTP status from 200 to 599', fault.status);
      break;
    case 'corrupt':
      if (fault.match === undefined) bad('match', 'given (corrupting every response is never meant)', fault.match);
      if (fault.offset !== undefined && !isCount(fault.offset)) bad('offset', 'a non-negative integer', fault.offset);
      break;
    default:
      throw new LayercheckError('E_BAD_FAULT', `unknown fault kind ${describeValue((fault as { kind: unknown }).kind)}`);
  }
}
