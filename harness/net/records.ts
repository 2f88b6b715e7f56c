import type { FaultKind } from './faults.js';

/**
 * One request that crossed the accounting proxy. Byte counts are what the proxy handed to the sockets:
 * ground truth for "what did the guest download", attributed to blobs, manifests and ostree objects.
 */
export interface ProxyRecord {
  /** Sequence number over the proxy's whole life (not reset by `reset()`). */
  id: number;
  method: string;
  /** The request target as the client sent it (path and query). */
  path: string;
  /** The status sent to the client; 0 while no response has started. */
  status: number;
  /** Request body bytes received from the client (and forwarded). */
  requestBytes: number;
  /** Response body bytes sent to the client: decoded (no chunk framing), exact; 0 for HEAD, 204, 304. */
  responseBodyBytes: number;
  /** Everything written to the client's socket for this response: status line, headers, chunk framing, body. */
  responseWireBytes: number;
  durationMs: number;
  /** ISO 8601 time the request arrived. */
  startedAt: string;
  /** Which client connection carried it (numbered from 1), to see keep-alive at work. */
  connection: number;
  /** `sha256:<hex>` for `/v2/<name>/blobs/<digest>`. */
  blobDigest?: string;
  /** The tag or digest of `/v2/<name>/manifests/<ref>`. */
  manifestRef?: string;
  /** The repository name of a `/v2/<name>/...` request. */
  repository?: string;
  /** `<64 hex>.<type>` for `.../objects/<2 hex>/<62 hex>.<type>` (filez, dirtree, dirmeta, commit, ...). */
  ostreeObject?: string;
  /** True once the response is complete (or was cut short: see `aborted`). */
  finished: boolean;
  /** The response did not complete: the client went away, the upstream broke, or a fault cut it. */
  aborted?: boolean;
  /** The injected fault that shaped this response, if any (`delay` first when several applied). */
  faults?: FaultKind[];
  /** Why the proxy could not complete the exchange (upstream unreachable, ...). */
  error?: string;
}

/** What a request path names, for attribution. */
export interface PathClass {
  repository?: string;
  blobDigest?: string;
  manifestRef?: string;
  ostreeObject?: string;
}

const DIGEST = '[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+';
const BLOB = new RegExp(`^/v2/(.+)/blobs/(${DIGEST})$`);
const MANIFEST = /^\/v2\/(.+)\/manifests\/([^/]+)$/;
const OSTREE_OBJECT = /(?:^|\/)objects\/([0-9a-f]{2})\/([0-9a-f]{62})\.([a-z][a-z-]*)$/;

/** Classify a request target: registry blob or manifest, ostree object, or nothing known. */
export function classifyPath(target: string): PathClass {
  const pathname = decodePath(target.split(/[?#]/, 1)[0] ?? '');
  const blob = BLOB.exec(pathname);
  if (blob) return { repository: blob[1] as string, blobDigest: blob[2] as string };
  const manifest = MANIFEST.exec(pathname);
  if (manifest) return { repository: manifest[1] as string, manifestRef: manifest[2] as string };
  const object = OSTREE_OBJECT.exec(pathname);
  if (object) return { ostreeObject: `${object[1]}${object[2]}.${object[3]}` };
  return {};
}

function decodePath(pathname: string): string {
  try {
    return decodeURIComponent(pathname);
  } catch {
    return pathname;
  }
}

export const CSV_COLUMNS = [
  'id', 'method', 'path', 'status', 'requestBytes', 'responseBodyBytes', 'responseWireBytes', 'durationMs', 'startedAt',
  'connection', 'repository', 'blobDigest', 'manifestRef', 'ostreeObject', 'finished', 'aborted', 'faults', 'error',
] as const satisfies ReadonlyArray<keyof ProxyRecord>;

/** RFC 4180 CSV with a header row; fields with commas, quotes or newlines are quoted. */
export function recordsToCsv(records: readonly ProxyRecord[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const record of records) {
    lines.push(CSV_COLUMNS.map((column) => csvField(record[column])).join(','));
  }
  return `${lines.join('\n')}\n`;
}

function csvField(value: unknown): string {
  if (value === undefined) return '';
  const text = Array.isArray(value) ? value.join(' ') : typeof value === 'number' ? String(Math.round(value * 1000) / 1000) : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
