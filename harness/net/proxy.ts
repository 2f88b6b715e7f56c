import http, { type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Duration } from '../util/duration.js';
import { LayercheckError, describeValue } from '../util/errors.js';
import { log } from '../util/log.js';
import { waitUntil } from '../util/wait.js';
import { type Fault, type FaultHandle, type FaultPlan, FaultSet } from './faults.js';
import { type ProxyRecord, classifyPath, recordsToCsv } from './records.js';
import { listenOnLoopback } from './listen.js';

export interface AccountingProxyOptions {
  /** The one server behind the proxy, as `http://127.0.0.1:PORT` (an origin: no path). */
  upstream: string | URL;
  /** Names the proxy in log lines and reports. @default 'proxy' */
  name?: string;
  /** Log one line per completed request. @default false */
  logRequests?: boolean;
}

/** The proxy's report: every record of the current accounting window. */
export interface ProxyReport {
  name: string;
  upstream: string;
  url: string;
  totalBytes: number;
  records: ProxyRecord[];
}

/** Headers that describe one hop, never forwarded (RFC 9110 7.6.1), plus `expect`, which node answers itself. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect']);

interface Connection {
  id: number;
  /** `socket.bytesWritten` when the previous response on it was complete. */
  accounted: number;
}

/**
 * An HTTP/1.1 reverse proxy on 127.0.0.1 in front of one upstream server, counting every byte it sends
 * to its clients, per request: the ground truth of what a guest downloaded. Requests are attributed to
 * registry blobs and manifests and to ostree objects by path. Keep-alive works on both sides; faults
 * (truncation, delay, refusal, corruption) can be injected per request.
 *
 * Records belong to the accounting window in which their request arrived; `reset()` opens a new one.
 */
export class AccountingProxy implements AsyncDisposable {
  readonly name: string;
  readonly upstream: URL;
  readonly #server: http.Server;
  readonly #agent = new http.Agent({ keepAlive: true });
  readonly #faults = new FaultSet();
  readonly #sockets = new Set<Socket>();
  readonly #connections = new WeakMap<Socket, Connection>();
  readonly #inFlight = new Set<ProxyRecord>();
  readonly #closing = new AbortController();
  readonly #logRequests: boolean;
  #window: ProxyRecord[] = [];
  #nextId = 1;
  #nextConnection = 1;
  #port = 0;
  #closed: Promise<void> | undefined;

  private constructor(options: AccountingProxyOptions) {
    this.name = options.name ?? 'proxy';
    this.upstream = parseUpstream(options.upstream);
    this.#logRequests = options.logRequests ?? false;
    // Guests under TCG are slow: no request deadline, and idle keep-alive connections are kept long enough
    // that a client reusing one never races the server closing it.
    this.#server = http.createServer({ keepAliveTimeout: 120_000, headersTimeout: 130_000, requestTimeout: 0 });
    this.#server.keepAliveTimeout = 120_000;
    this.#server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      this.#connections.set(socket, { id: this.#nextConnection++, accounted: 0 });
      socket.once('close', () => this.#sockets.delete(socket));
    });
    this.#server.on('request', (req: IncomingMessage, res: ServerResponse) => this.#onRequest(req, res));
  }

  /** Listen on a free 127.0.0.1 port. */
  static async start(options: AccountingProxyOptions): Promise<AccountingProxy> {
    const proxy = new AccountingProxy(options);
    proxy.#port = await listenOnLoopback(proxy.#server);
    log(proxy.name, `accounting proxy ${proxy.url} -> ${proxy.upstream.origin}`);
    return proxy;
  }

  get port(): number {
    return this.#port;
  }

  /** `http://127.0.0.1:PORT`, no trailing slash. */
  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** Copies of the records of the current window, in arrival order. */
  records(): readonly ProxyRecord[] {
    return this.#window.map(copyRecord);
  }

  /** Response body bytes of the current window (of the records `filter` keeps). */
  totalBytes(filter?: (record: ProxyRecord) => boolean): number {
    return this.#window.filter((r) => !filter || filter(copyRecord(r))).reduce((sum, r) => sum + r.responseBodyBytes, 0);
  }

  /** Response body bytes per blob digest in the current window (repeated and partial fetches add up). */
  bytesByBlob(): Map<string, number> {
    return this.#bytesBy((r) => r.blobDigest);
  }

  /**
   * Response body bytes per ostree object (`<checksum>.<type>`) served with 200 in the current window: what
   * a pull fetched. The 404s a pull expects (detached `.commitmeta`, ...) are not objects it got.
   */
  bytesByOstreeObject(): Map<string, number> {
    return this.#bytesBy((r) => (r.status === 200 ? r.ostreeObject : undefined));
  }

  #bytesBy(keyOf: (record: ProxyRecord) => string | undefined): Map<string, number> {
    const bytes = new Map<string, number>();
    for (const r of this.#window) {
      const key = keyOf(r);
      if (key !== undefined) bytes.set(key, (bytes.get(key) ?? 0) + r.responseBodyBytes);
    }
    return bytes;
  }

  /** Start a fresh accounting window (say, per scenario step). Requests in flight stay in the old one. */
  reset(): void {
    this.#window = [];
  }

  /** Play `fault` on matching requests until it is removed (or used up its `times`). */
  inject(fault: Fault): FaultHandle {
    return this.#faults.add(fault);
  }

  /** Remove every injected fault. */
  clearFaults(): void {
    this.#faults.clear();
  }

  /** Wait until no request is in flight (a client's last response is accounted). @default timeout '10s' */
  async idle(timeout: Duration = '10s'): Promise<void> {
    await waitUntil(
      async () => (this.#inFlight.size === 0 ? { done: true, value: undefined } : { done: false, observation: `${this.#inFlight.size} in flight: ${[...this.#inFlight].map((r) => `${r.method} ${r.path}`).join(', ')}` }),
      { what: `${this.name} to finish its requests`, timeout, interval: '20ms' },
    );
  }

  toCsv(): string {
    return recordsToCsv(this.#window);
  }

  toJSON(): ProxyReport {
    return { name: this.name, upstream: this.upstream.origin, url: this.url, totalBytes: this.totalBytes(), records: this.#window.map(copyRecord) };
  }

  /** Stop listening and end every connection, keep-alive ones included, on both sides. Never throws. */
  close(): Promise<void> {
    this.#closed ??= new Promise<void>((resolve) => {
      this.#closing.abort();
      this.#faults.clear();
      this.#server.close(() => resolve());
      for (const socket of this.#sockets) socket.destroy();
      this.#agent.destroy();
    });
    return this.#closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket;
    const connection = this.#connections.get(socket) ?? { id: 0, accounted: socket.bytesWritten };
    const path = req.url ?? '/';
    const record: ProxyRecord = {
      id: this.#nextId++,
      method: req.method ?? 'GET',
      path,
      status: 0,
      requestBytes: 0,
      responseBodyBytes: 0,
      responseWireBytes: 0,
      durationMs: 0,
      startedAt: new Date().toISOString(),
      connection: connection.id,
      ...classifyPath(path),
      finished: false,
    };
    this.#window.push(record);
    this.#inFlight.add(record);
    const started = performance.now();
    // Wire bytes: what the socket took since the previous response on it was complete. `prefinish` comes
    // when the last byte of this response went to the socket, before a pipelined next one may write.
    const account = (): void => {
      record.responseWireBytes = socket.bytesWritten - connection.accounted;
      connection.accounted = socket.bytesWritten;
    };
    res.once('prefinish', account);
    req.on('error', () => {});
    res.on('error', () => {});
    res.once('close', () => {
      if (!res.writableFinished) {
        record.aborted = true;
        res.off('prefinish', account);
        account();
      }
      record.durationMs = performance.now() - started;
      record.finished = true;
      this.#inFlight.delete(record);
      if (this.#logRequests) log(this.name, describeRecord(record));
    });
    void this.#exchange(req, res, record);
  }

  async #exchange(req: IncomingMessage, res: ServerResponse, record: ProxyRecord): Promise<void> {
    try {
      const plan = this.#faults.plan({ method: record.method, path: record.path, headers: req.headers });
      if (plan.kinds.length > 0) record.faults = plan.kinds;
      if (plan.delayMs > 0) {
        await sleep(plan.delayMs, undefined, { signal: this.#closing.signal });
        if (res.destroyed) throw new LayercheckError('E_CLIENT_GONE', 'the client closed the connection');
      }
      if (plan.refuseStatus !== undefined) {
        req.on('data', (chunk: Buffer) => (record.requestBytes += chunk.length));
        record.status = plan.refuseStatus;
        res.writeHead(plan.refuseStatus, { 'content-length': '0' });
        res.end();
        return;
      }
      const upstreamRes = await this.#forward(req, res, record);
      upstreamRes.on('error', () => {});
      record.status = upstreamRes.statusCode ?? 502;
      res.writeHead(record.status, upstreamRes.statusMessage, this.#responseHeaders(upstreamRes.headers, req.headers.host));
      await this.#relay(upstreamRes, res, record, plan);
    } catch (error) {
      record.error ??= errorText(error);
      if (!res.headersSent && !res.destroyed) {
        const body = Buffer.from(`layercheck proxy ${this.name}: ${record.error}\n`);
        record.status = 502;
        record.responseBodyBytes += req.method === 'HEAD' ? 0 : body.length;
        res.writeHead(502, { 'content-type': 'text/plain', 'content-length': String(body.length) });
        res.end(body);
      } else {
        record.aborted = true;
        res.destroy();
      }
    }
  }

  /** Send the request upstream, streaming its body; resolves with the upstream's response head. */
  #forward(req: IncomingMessage, res: ServerResponse, record: ProxyRecord): Promise<IncomingMessage> {
    const bodyless = (record.method === 'GET' || record.method === 'HEAD') && req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined;
    const attempt = (mayRetry: boolean): Promise<IncomingMessage> =>
      new Promise<IncomingMessage>((resolve, reject) => {
        const upstreamReq = http.request({
          host: this.upstream.hostname,
          port: this.upstream.port,
          method: record.method,
          path: record.path,
          // The client's Host is kept: the upstream builds the URLs it hands out from it.
          headers: forwardable(req.headers),
          agent: this.#agent,
        });
        const onClientGone = (): void => {
          if (!res.writableFinished) upstreamReq.destroy();
        };
        res.once('close', onClientGone);
        let responded = false;
        upstreamReq.once('response', (upstreamRes: IncomingMessage) => {
          responded = true;
          resolve(upstreamRes);
        });
        upstreamReq.on('error', (error: NodeJS.ErrnoException) => {
          if (responded) return; // a broken body surfaces in the relay
          res.off('close', onClientGone);
          // An idle keep-alive connection the upstream closed just as we reused it: safe to try once more.
          if (mayRetry && bodyless && upstreamReq.reusedSocket && error.code === 'ECONNRESET') resolve(attempt(false));
          else reject(error);
        });
        if (bodyless) {
          upstreamReq.end();
          return;
        }
        req.on('data', (chunk: Buffer) => {
          record.requestBytes += chunk.length;
          if (!upstreamReq.write(chunk)) req.pause();
        });
        upstreamReq.on('drain', () => req.resume());
        req.once('end', () => upstreamReq.end());
      });
    return attempt(true);
  }

  /** Stream the upstream body to the client, counting, and playing the plan's body faults. */
  async #relay(upstreamRes: IncomingMessage, res: ServerResponse, record: ProxyRecord, plan: FaultPlan): Promise<void> {
    let offset = 0;
    for await (const chunk of upstreamRes as AsyncIterable<Buffer>) {
      let data = chunk;
      const at = plan.corruptOffset;
      if (at !== undefined && at >= offset && at < offset + data.length) {
        data = Buffer.from(data);
        data[at - offset] = (data[at - offset] as number) ^ 0xff;
      }
      if (plan.cutAfterBytes !== undefined && offset + data.length > plan.cutAfterBytes) {
        data = data.subarray(0, plan.cutAfterBytes - offset);
        record.responseBodyBytes += data.length;
        cutConnection(res, data);
        record.aborted = true;
        return; // leaving the loop destroys the upstream response
      }
      if (res.destroyed) throw new LayercheckError('E_CLIENT_GONE', 'the client closed the connection');
      offset += data.length;
      record.responseBodyBytes += data.length;
      if (!res.write(data)) await drained(res);
    }
    res.end();
  }

  #responseHeaders(headers: IncomingHttpHeaders, clientHost: string | undefined): OutgoingHttpHeaders {
    const out = forwardable(headers);
    // Absolute redirects naming the upstream must name the proxy, which is all the client can reach.
    const location = headers.location;
    if (location !== undefined && clientHost !== undefined && location.startsWith(this.upstream.origin)) {
      out.location = `http://${clientHost}${location.slice(this.upstream.origin.length)}`;
    }
    return out;
  }
}

function parseUpstream(upstream: string | URL): URL {
  let url: URL | undefined;
  try {
    url = new URL(String(upstream));
  } catch {
    url = undefined;
  }
  if (!url || url.protocol !== 'http:' || (url.pathname !== '/' && url.pathname !== '') || url.search || url.username) {
    throw new LayercheckError('E_BAD_UPSTREAM', `the proxy's upstream must be an http origin such as \`http://127.0.0.1:5000\`, got ${describeValue(String(upstream))}`, { upstream: String(upstream) });
  }
  return url;
}

/** Headers minus hop-by-hop ones and those the `Connection` header names. */
function forwardable(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const named = new Set(
    String(headers.connection ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean),
  );
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || named.has(name)) continue;
    out[name] = value;
  }
  return out;
}

/**
 * Send `data` (and the head, if not yet sent), then end the connection once they are flushed: the client
 * sees a truncated response, and every counted byte did reach it.
 */
function cutConnection(res: ServerResponse, data: Buffer): void {
  if (data.length > 0) res.write(data);
  else res.flushHeaders();
  const socket = res.socket;
  if (!socket) {
    res.destroy();
    return;
  }
  socket.end();
  setTimeout(() => socket.destroy(), 2_000).unref();
}

function drained(res: ServerResponse): Promise<void> {
  if (res.destroyed) return Promise.reject(new LayercheckError('E_CLIENT_GONE', 'the client closed the connection'));
  return new Promise((resolve, reject) => {
    const done = (error?: Error): void => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = (): void => done();
    const onClose = (): void => done(new LayercheckError('E_CLIENT_GONE', 'the client closed the connection'));
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}

function copyRecord(record: ProxyRecord): ProxyRecord {
  return record.faults ? { ...record, faults: [...record.faults] } : { ...record };
}

function errorText(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}

function describeRecord(r: ProxyRecord): string {
  const what = r.blobDigest ? ` blob ${r.blobDigest.slice(0, 19)}` : r.manifestRef ? ` manifest ${r.manifestRef}` : '';
  const flags = [r.aborted ? 'aborted' : '', ...(r.faults ?? [])].filter(Boolean).join(',');
  return `${r.method} ${r.path} ${r.status} ${r.responseBodyBytes} B${what} ${Math.round(r.durationMs)}ms${flags ? ` [${flags}]` : ''}`;
}
