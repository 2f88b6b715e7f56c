import { createHash } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net, { type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { findCommand } from '../fixtures/host-packages.js';
import { guestForwarder } from '../vm/args.js';
import { AccountingProxy } from './proxy.js';

/** Deterministic, non-repeating-looking bytes. */
function pattern(n: number, salt = 0): Buffer {
  const buf = Buffer.alloc(n);
  for (let i = 0; i < n; i++) buf[i] = (i * 31 + 7 + salt * 13 + (i >> 8)) & 0xff;
  return buf;
}

const MIB7 = 1024 * 1024 + 7;
const BLOB_A = pattern(70_000, 1);
const BLOB_B = pattern(1234, 2);
const digestOf = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const BLOBS = new Map([[digestOf(BLOB_A), BLOB_A], [digestOf(BLOB_B), BLOB_B]]);

/** The upstream: known bodies, sent with Content-Length or chunked in pieces. */
class Upstream {
  hits = 0;
  lastRequestBody = Buffer.alloc(0);
  lastRequestHeaders: http.IncomingHttpHeaders = {};
  readonly server: http.Server;
  readonly sockets = new Set<Socket>();

  constructor() {
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const address = this.server.address() as net.AddressInfo;
    return `http://127.0.0.1:${address.port}`;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    this.hits++;
    this.lastRequestHeaders = req.headers;
    const url = new URL(req.url ?? '/', 'http://x');
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      this.lastRequestBody = Buffer.concat(chunks);
      let m: RegExpExecArray | null;
      if ((m = /^\/length\/(\d+)$/.exec(url.pathname))) {
        const body = pattern(Number(m[1]));
        res.writeHead(200, { 'content-length': String(body.length), 'x-kind': 'length' });
        res.end(body);
      } else if ((m = /^\/chunked\/(\d+)$/.exec(url.pathname))) {
        const body = pattern(Number(m[1]));
        res.writeHead(200, { 'x-kind': 'chunked' });
        for (let at = 0; at < body.length; at += 4099) res.write(body.subarray(at, at + 4099));
        res.end();
      } else if ((m = /^\/v2\/refos\/blobs\/(sha256:[0-9a-f]{64})$/.exec(url.pathname))) {
        const blob = BLOBS.get(m[1] as string);
        if (!blob) {
          res.writeHead(404, { 'content-length': '0' }).end();
          return;
        }
        res.writeHead(200, { 'content-length': String(blob.length), 'docker-content-digest': m[1] as string });
        res.end(req.method === 'HEAD' ? undefined : blob);
      } else if ((m = /^\/repo\/objects\/[0-9a-f]{2}\/[0-9a-f]{62}\.(?:filez|dirtree)$/.exec(url.pathname))) {
        res.writeHead(200, { 'content-length': '100' });
        res.end(pattern(100));
      } else if ((m = /^\/break\/(\d+)$/.exec(url.pathname))) {
        res.writeHead(200, { 'content-length': String(Number(m[1]) * 2) });
        res.write(pattern(Number(m[1])), () => setTimeout(() => res.destroy(), 20));
      } else if (url.pathname === '/echo') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(String(this.lastRequestBody.length));
      } else if (url.pathname === '/redirect') {
        res.writeHead(307, { location: `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}/length/5`, 'content-length': '0' });
        res.end();
      } else {
        res.writeHead(404, { 'content-length': '9' });
        res.end('not found');
      }
    });
  }
}

interface Got {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function request(url: string, options: http.RequestOptions & { body?: Buffer } = {}): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.once('error', reject);
    });
    req.once('error', reject);
    req.end(options.body);
  });
}

/** A GET expected to break: how many body bytes arrived before it did, and how it broke. */
function brokenGet(url: string): Promise<{ status: number; received: number; error: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false }, (res) => {
      let received = 0;
      res.on('data', (c: Buffer) => (received += c.length));
      res.once('end', () => reject(new Error(`the response completed with ${received} bytes`)));
      res.once('error', (error) => resolve({ status: res.statusCode ?? 0, received, error: error.message }));
    });
    req.once('error', reject);
  });
}

/** Write `raw` on a fresh connection and read until the server closes it. */
function rawExchange(port: number, raw: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(raw));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.once('end', () => resolve(Buffer.concat(chunks)));
    socket.once('error', reject);
  });
}

/** Bytes of the first response in `raw`: head plus its Content-Length body. */
function firstResponseLength(raw: Buffer): number {
  const headEnd = raw.indexOf('\r\n\r\n') + 4;
  const length = Number(/content-length: (\d+)/i.exec(raw.subarray(0, headEnd).toString('latin1'))?.[1]);
  return headEnd + length;
}

describe('AccountingProxy', () => {
  let upstream: Upstream;
  let proxy: AccountingProxy;
  let agent: http.Agent;

  beforeEach(async () => {
    upstream = new Upstream();
    proxy = await AccountingProxy.start({ upstream: await upstream.start(), name: 'test-proxy' });
    agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  });

  afterEach(async () => {
    agent.destroy();
    await proxy.close();
    await upstream.close();
  });

  test('counts every body byte exactly, Content-Length and chunked, over one keep-alive connection', async () => {
    const sizes = [0, 1, 1000, MIB7];
    const expected: number[] = [];
    for (const kind of ['length', 'chunked']) {
      for (const size of sizes) {
        const got = await request(`${proxy.url}/${kind}/${size}`, { agent });
        expect(got.status).toBe(200);
        expect(got.headers['x-kind']).toBe(kind);
        expect(got.body.equals(pattern(size))).toBe(true);
        expected.push(size);
      }
    }
    await proxy.idle();
    const records = proxy.records();
    expect(records.map((r) => r.responseBodyBytes)).toEqual(expected);
    expect(records.every((r) => r.finished && !r.aborted && r.status === 200)).toBe(true);
    expect(new Set(records.map((r) => r.connection)).size).toBe(1);
    expect(proxy.totalBytes()).toBe(2 * (0 + 1 + 1000 + MIB7));
    expect(proxy.totalBytes((r) => r.path.startsWith('/chunked/'))).toBe(0 + 1 + 1000 + MIB7);
    // The head and the chunk framing are on the wire but not in the body.
    const chunked = records.find((r) => r.path === `/chunked/${MIB7}`);
    expect(chunked?.responseWireBytes).toBeGreaterThan(MIB7 + 100);
  });

  test('fetch through the proxy is counted too', async () => {
    const res = await fetch(`${proxy.url}/length/4321`);
    expect((await res.arrayBuffer()).byteLength).toBe(4321);
    await proxy.idle();
    expect(proxy.totalBytes()).toBe(4321);
  });

  test('attributes blob bytes to digests; HEAD counts 0', async () => {
    const a = digestOf(BLOB_A);
    const b = digestOf(BLOB_B);
    const head = await request(`${proxy.url}/v2/refos/blobs/${a}`, { agent, method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String(BLOB_A.length));
    expect(head.body.length).toBe(0);
    for (const digest of [a, b, a]) await request(`${proxy.url}/v2/refos/blobs/${digest}`, { agent });
    await request(`${proxy.url}/v2/refos/manifests/latest`, { agent });
    await proxy.idle();
    const records = proxy.records();
    expect(records[0]).toMatchObject({ method: 'HEAD', blobDigest: a, repository: 'refos', responseBodyBytes: 0 });
    expect(records[4]).toMatchObject({ manifestRef: 'latest', status: 404, responseBodyBytes: 9 });
    expect(proxy.bytesByBlob()).toEqual(new Map([[a, 2 * BLOB_A.length], [b, BLOB_B.length]]));
  });

  test('attributes ostree objects served with 200; an expected 404 (.commitmeta) is no object fetched', async () => {
    const object = (type: string) => `/repo/objects/ab/${'c'.repeat(62)}.${type}`;
    for (const type of ['filez', 'dirtree', 'filez', 'commitmeta']) await request(`${proxy.url}${object(type)}`, { agent });
    await proxy.idle();
    expect(proxy.records().at(-1)).toMatchObject({ ostreeObject: `ab${'c'.repeat(62)}.commitmeta`, status: 404, responseBodyBytes: 9 });
    expect(proxy.bytesByOstreeObject()).toEqual(new Map([[`ab${'c'.repeat(62)}.filez`, 200], [`ab${'c'.repeat(62)}.dirtree`, 100]]));
    expect(proxy.bytesByBlob()).toEqual(new Map());
  });

  test('wire bytes are exactly what the client read, pipelined requests included', async () => {
    const single = await rawExchange(proxy.port, 'GET /length/1000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const pipelined = await rawExchange(proxy.port,
      'GET /length/300 HTTP/1.1\r\nHost: x\r\n\r\nGET /length/2000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await proxy.idle();
    const [one, two, three] = proxy.records();
    expect(one?.responseWireBytes).toBe(single.length);
    expect(one?.responseBodyBytes).toBe(1000);
    expect(two?.responseWireBytes).toBe(firstResponseLength(pipelined));
    expect(three?.responseWireBytes).toBe(pipelined.length - firstResponseLength(pipelined));
    expect([two?.responseBodyBytes, three?.responseBodyBytes]).toEqual([300, 2000]);
  });

  const forwarder = guestForwarder(0)[0] as string;

  /**
   * Send `requests` through the forwarder qemu would start for a guest connection, the guest's side left
   * open as a guest's is: what came back once the forwarder ended (or was stopped after 10 s).
   */
  async function throughForwarder(port: number, requests: string): Promise<{ stdout: Uint8Array; timedOut: boolean }> {
    const [command, ...args] = guestForwarder(port) as [string, ...string[]];
    const fwd = execa(command, args, { stdin: 'pipe', encoding: 'buffer', stripFinalNewline: false, timeout: 10_000, reject: false });
    try {
      fwd.stdin.write(requests);
      return await fwd;
    } finally {
      if (fwd.pid !== undefined && fwd.exitCode === null) process.kill(fwd.pid, 'SIGKILL');
    }
  }

  test.skipIf(!findCommand(forwarder))("works through qemu's guestfwd forwarder, as guests connect", async () => {
    // The server's close of the second response ends the exchange.
    const { stdout } = await throughForwarder(proxy.port, 'GET /length/500 HTTP/1.1\r\nHost: 10.0.2.101:5000\r\n\r\nGET /chunked/70000 HTTP/1.1\r\nHost: 10.0.2.101:5000\r\nConnection: close\r\n\r\n');
    await proxy.idle();
    const records = proxy.records();
    expect(records.map((r) => [r.status, r.responseBodyBytes])).toEqual([[200, 500], [200, 70_000]]);
    expect(records[0]?.connection).toBe(records[1]?.connection);
    expect(stdout.length).toBe((records[0]?.responseWireBytes ?? 0) + (records[1]?.responseWireBytes ?? 0));
  });

  test.skipIf(!findCommand(forwarder))('a response the server cuts short ends the guest\'s connection through the forwarder, not a stall', async () => {
    proxy.inject({ kind: 'reset-after-bytes', bytes: 1000 });
    const { stdout, timedOut } = await throughForwarder(proxy.port, 'GET /length/100000 HTTP/1.1\r\nHost: 10.0.2.101:5000\r\n\r\n');
    expect(timedOut).toBe(false); // a stall would last until the 10 s timeout
    const response = Buffer.from(stdout);
    expect(response.subarray(response.indexOf('\r\n\r\n') + 4).length).toBe(1000);
  });

  test('streams request bodies and counts them', async () => {
    const body = pattern(300_000, 5);
    const got = await request(`${proxy.url}/echo`, { agent, method: 'POST', body, headers: { 'content-length': String(body.length) } });
    expect(got.body.toString()).toBe('300000');
    expect(upstream.lastRequestBody.equals(body)).toBe(true);
    await proxy.idle();
    expect(proxy.records()[0]).toMatchObject({ method: 'POST', requestBytes: 300_000, responseBodyBytes: 6 });
  });

  test('reset opens a new window; ids go on; CSV and JSON report the window', async () => {
    await request(`${proxy.url}/length/10`, { agent });
    await proxy.idle();
    proxy.reset();
    expect(proxy.records()).toEqual([]);
    expect(proxy.totalBytes()).toBe(0);
    await request(`${proxy.url}/length/20?a=1,2`, { agent });
    await proxy.idle();
    expect(proxy.records().map((r) => [r.id, r.responseBodyBytes])).toEqual([[2, 20]]);
    const csv = proxy.toCsv().trimEnd().split('\n');
    expect(csv).toHaveLength(2);
    expect(csv[1]).toMatch(/^2,GET,"\/length\/20\?a=1,2",200,0,20,\d+,/);
    const json = JSON.parse(JSON.stringify(proxy)) as { name: string; totalBytes: number; records: unknown[] };
    expect(json).toMatchObject({ name: 'test-proxy', totalBytes: 20 });
    expect(json.records).toHaveLength(1);
  });

  test('hop-by-hop headers stay on their hop: an h2c upgrade is answered in HTTP/1.1, Host is kept', async () => {
    const raw = await rawExchange(proxy.port, 'GET /length/7 HTTP/1.1\r\nHost: 10.0.2.101:5000\r\nConnection: Upgrade, HTTP2-Settings, close\r\n'
      + 'Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\nX-Keep: yes\r\n\r\n');
    expect(raw.toString('latin1')).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(raw.length).toBe(firstResponseLength(raw));
    expect(upstream.lastRequestHeaders).toMatchObject({ host: '10.0.2.101:5000', 'x-keep': 'yes' });
    expect(upstream.lastRequestHeaders.upgrade).toBeUndefined();
    expect(upstream.lastRequestHeaders['http2-settings']).toBeUndefined();
  });

  test('a redirect to the upstream is rewritten to the proxy', async () => {
    const got = await request(`${proxy.url}/redirect`, { agent });
    expect(got.status).toBe(307);
    expect(got.headers.location).toBe(`${proxy.url}/length/5`);
  });

  test('an unreachable upstream gives 502 and an error in the record', async () => {
    await upstream.close();
    const got = await request(`${proxy.url}/length/5`, { agent: false });
    expect(got.status).toBe(502);
    await proxy.idle();
    expect(proxy.records()[0]?.error).toMatch(/ECONNREFUSED/);
  });

  test('an upstream that breaks mid-body breaks the client response too; what was sent is counted', async () => {
    const broken = await brokenGet(`${proxy.url}/break/3000`);
    expect(broken).toMatchObject({ status: 200, received: 3000 });
    await proxy.idle();
    expect(proxy.records()[0]).toMatchObject({ responseBodyBytes: 3000, aborted: true, finished: true });
    expect((await request(`${proxy.url}/length/3`, { agent })).body.length).toBe(3);
  });

  test('a client that goes away mid-body is recorded as aborted; the proxy carries on', async () => {
    // Far more than loopback socket buffers hold (a few MiB), so the client leaves before the body is sent.
    const BIG = 64 * 1024 * 1024;
    await new Promise<void>((resolve) => {
      const req = http.get(`${proxy.url}/length/${BIG}`, { agent: false }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => {});
    });
    await proxy.idle();
    const [record] = proxy.records();
    expect(record?.aborted).toBe(true);
    expect(record?.responseBodyBytes).toBeGreaterThan(0);
    expect(record?.responseBodyBytes).toBeLessThan(BIG);
    expect((await request(`${proxy.url}/length/3`, { agent })).body.length).toBe(3);
  });

  test('close ends idle keep-alive connections', async () => {
    await request(`${proxy.url}/length/1`, { agent });
    const socket = (agent.freeSockets[Object.keys(agent.freeSockets)[0] as string] ?? [])[0];
    expect(socket).toBeDefined();
    const closed = new Promise<void>((resolve) => socket?.once('close', () => resolve()));
    await proxy.close();
    await closed;
    await expect(request(`${proxy.url}/length/1`, { agent: false })).rejects.toThrow(/ECONNREFUSED/);
  });

  describe('faults', () => {
    test('reset-after-bytes: the client gets exactly N body bytes, then the connection ends; N is counted', async () => {
      const handle = proxy.inject({ kind: 'reset-after-bytes', bytes: 5000, match: /^\/length\//, times: 1 });
      const broken = await brokenGet(`${proxy.url}/length/${MIB7}`);
      expect(broken).toMatchObject({ status: 200, received: 5000 });
      expect(handle.hits).toBe(1);
      // Used up: the next request is whole.
      expect((await request(`${proxy.url}/length/${MIB7}`, { agent })).body.length).toBe(MIB7);
      await proxy.idle();
      const [cut, whole] = proxy.records();
      expect(cut).toMatchObject({ responseBodyBytes: 5000, aborted: true, faults: ['reset-after-bytes'] });
      expect(whole).toMatchObject({ responseBodyBytes: MIB7, finished: true });
      expect(whole?.aborted).toBeUndefined();
    });

    test('reset-after-bytes 0 on a chunked body sends the head only; shorter bodies complete', async () => {
      using _ = proxy.inject({ kind: 'reset-after-bytes', bytes: 0, match: (r) => r.path === '/chunked/100000' });
      const broken = await brokenGet(`${proxy.url}/chunked/100000`);
      expect(broken).toMatchObject({ status: 200, received: 0 });
      using __ = proxy.inject({ kind: 'reset-after-bytes', bytes: 10, match: /^\/length\/10$/ });
      expect((await request(`${proxy.url}/length/10`, { agent })).body.length).toBe(10);
      await proxy.idle();
      expect(proxy.records().map((r) => [r.responseBodyBytes, r.aborted ?? false])).toEqual([[0, true], [10, false]]);
    });

    test('refuse answers the status without contacting the upstream', async () => {
      const refuse = proxy.inject({ kind: 'refuse', match: /blobs/ });
      const digest = digestOf(BLOB_B);
      const got = await request(`${proxy.url}/v2/refos/blobs/${digest}`, { agent });
      expect(got.status).toBe(503);
      refuse.remove();
      proxy.inject({ kind: 'refuse', status: 429, times: 1 });
      expect((await request(`${proxy.url}/length/1`, { agent })).status).toBe(429);
      expect(upstream.hits).toBe(0);
      expect((await request(`${proxy.url}/v2/refos/blobs/${digest}`, { agent })).status).toBe(200);
      expect(upstream.hits).toBe(1);
      await proxy.idle();
      expect(proxy.records().map((r) => [r.status, r.responseBodyBytes])).toEqual([[503, 0], [429, 0], [200, BLOB_B.length]]);
    });

    test('delay holds matching requests back and no others', async () => {
      proxy.inject({ kind: 'delay', ms: 300, match: /slow/ });
      const time = async (path: string): Promise<number> => {
        const start = performance.now();
        await request(`${proxy.url}${path}`, { agent });
        return performance.now() - start;
      };
      await time('/length/1'); // warm the connections
      await time('/length/2');
      const slow = await time('/length/3?slow');
      // A lower bound only: the delay guarantees it; an upper bound on the others would depend on load.
      expect(slow).toBeGreaterThanOrEqual(295);
      await proxy.idle();
      expect(proxy.records().map((r) => r.faults)).toEqual([undefined, undefined, ['delay']]);
    });

    test('corrupt inverts one body byte: same size, different digest', async () => {
      const digest = digestOf(BLOB_A);
      proxy.inject({ kind: 'corrupt', match: (r) => r.path.includes(digest), offset: 65_536 + 3 });
      const got = await request(`${proxy.url}/v2/refos/blobs/${digest}`, { agent });
      expect(got.body.length).toBe(BLOB_A.length);
      expect(digestOf(got.body)).not.toBe(digest);
      const differing = [...got.body.keys()].filter((i) => got.body[i] !== BLOB_A[i]);
      expect(differing).toEqual([65_536 + 3]);
      expect(got.body[65_539]).toBe((BLOB_A[65_539] as number) ^ 0xff);
      await proxy.idle();
      expect(proxy.bytesByBlob().get(digest)).toBe(BLOB_A.length);
    });

    test('bad faults are refused with the bad value quoted', () => {
      expect(() => proxy.inject({ kind: 'reset-after-bytes', bytes: -1 })).toThrow('`bytes` must be a non-negative integer, got `-1` (number)');
      expect(() => proxy.inject({ kind: 'refuse', status: 42 })).toThrow(/`status`/);
      expect(() => proxy.inject({ kind: 'delay', ms: 5, times: 0 })).toThrow(/`times`/);
    });
  });

  test('rejects an upstream that is not an http origin', async () => {
    await expect(AccountingProxy.start({ upstream: 'https://127.0.0.1:1' })).rejects.toThrow(/http origin/);
    await expect(AccountingProxy.start({ upstream: 'http://127.0.0.1:1/repo' })).rejects.toThrow(/http origin/);
  });
});
