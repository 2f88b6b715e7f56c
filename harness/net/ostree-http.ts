import { type FileHandle, open, realpath } from 'node:fs/promises';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { LayercheckError } from '../util/errors.js';
import { log } from '../util/log.js';
import { listenOnLoopback } from './listen.js';

export interface StaticHttpServerOptions {
  /** The directory served at `/` (an ostree archive repo: `config`, `objects/`, `refs/`, ...). */
  root: string;
  /** Names the server in log lines. @default 'ostree-http' */
  name?: string;
}

/**
 * A plain file server on 127.0.0.1 for an ostree archive repo: GET and HEAD of regular files with
 * `Content-Length`, 404 (with an empty body) for anything else, no directory listings, nothing outside the root (`..` is
 * refused, and symlinks may not lead out). Put an `AccountingProxy` in front of it to count bytes.
 */
export class StaticHttpServer implements AsyncDisposable {
  readonly name: string;
  /** The served directory, symlinks resolved. */
  readonly root: string;
  readonly #server: http.Server;
  readonly #sockets = new Set<Socket>();
  #port = 0;
  #closed: Promise<void> | undefined;

  private constructor(root: string, name: string) {
    this.root = root;
    this.name = name;
    this.#server = http.createServer({ keepAliveTimeout: 120_000, headersTimeout: 130_000, requestTimeout: 0 });
    this.#server.keepAliveTimeout = 120_000;
    this.#server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
    this.#server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      res.on('error', () => {});
      this.#serve(req, res).catch(() => res.destroy());
    });
  }

  static async start(options: StaticHttpServerOptions): Promise<StaticHttpServer> {
    let root: string;
    try {
      root = await realpath(options.root);
    } catch (error) {
      throw new LayercheckError('E_NO_ROOT', `cannot serve ${options.root}: it does not exist`, { root: options.root }, { cause: error });
    }
    const server = new StaticHttpServer(root, options.name ?? 'ostree-http');
    server.#port = await listenOnLoopback(server.#server);
    log(server.name, `serving ${root} on ${server.url}`);
    return server;
  }

  get port(): number {
    return this.#port;
  }

  /** `http://127.0.0.1:PORT`, no trailing slash. */
  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** Stop listening and end every connection. Never throws. */
  close(): Promise<void> {
    this.#closed ??= new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      for (const socket of this.#sockets) socket.destroy();
    });
    return this.#closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 405, { allow: 'GET, HEAD' });
    const file = await this.#resolve(req.url ?? '/');
    if (file === 'forbidden') return reply(res, 403);
    let handle: FileHandle | undefined;
    try {
      handle = file === undefined ? undefined : await open(file, 'r');
    } catch {
      handle = undefined;
    }
    if (!handle) return reply(res, 404);
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) return reply(res, 404);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(stat.size) });
      if (req.method === 'HEAD' || stat.size === 0) {
        res.end();
        return;
      }
      await pipeline(handle.createReadStream({ autoClose: false, start: 0, end: stat.size - 1 }), res);
    } finally {
      await handle.close();
    }
  }

  /** The file a request target names, `forbidden` if it tries to leave the root, undefined if it cannot exist. */
  async #resolve(target: string): Promise<string | undefined | 'forbidden'> {
    let pathname: string;
    try {
      pathname = decodeURIComponent(target.split(/[?#]/, 1)[0] ?? '');
    } catch {
      return 'forbidden';
    }
    if (!pathname.startsWith('/') || pathname.includes('\0') || pathname.includes('\\')) return 'forbidden';
    if (pathname.split('/').some((segment) => segment === '..')) return 'forbidden';
    const file = path.join(this.root, pathname);
    let real: string;
    try {
      real = await realpath(file);
    } catch {
      return undefined;
    }
    return real === this.root || real.startsWith(`${this.root}${path.sep}`) ? real : 'forbidden';
  }
}

/** Errors have empty bodies, so that the bytes a client is sent are exactly the files it fetched. */
function reply(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...headers, 'content-length': '0' });
  res.end();
}
