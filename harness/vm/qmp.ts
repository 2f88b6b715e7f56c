import { type Socket, createConnection } from 'node:net';
import { type Duration, toMs } from '../util/duration.js';
import { waitUntil } from '../util/wait.js';
import { QmpError } from './errors.js';

/** An asynchronous QMP event such as `SHUTDOWN`, `RESET`, `POWERDOWN`. */
export interface QmpEvent {
  event: string;
  /** Absent for events that carry nothing (`POWERDOWN`). */
  data?: Record<string, unknown>;
  timestamp: { seconds: number; microseconds: number };
}

export interface QmpConnectOptions {
  /** The socket appears shortly after qemu starts. @default '10s' */
  timeout?: Duration;
  /** Undefined while qemu runs, else why it is gone: connecting stops at once. */
  isAlive?: () => string | undefined;
}

export interface QmpExecuteOptions {
  /** @default '30s' */
  timeout?: Duration;
}

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void; command: string };

/** A minimal QMP client: one connection, commands answered in order by id, events collected. */
export class QmpClient {
  /** Every event received, oldest first. */
  readonly events: QmpEvent[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly eventListeners = new Set<(event: QmpEvent) => void>();
  private nextId = 1;
  private buffer = '';
  private closedReason: string | undefined;
  private greeted: ((greeting: Record<string, unknown>) => void) | undefined;
  private notGreeted: ((error: Error) => void) | undefined;
  /** qemu's `{"QMP": {version, capabilities}}`, sent before anything else. */
  readonly greeting: Promise<Record<string, unknown>>;

  private constructor(private readonly socket: Socket, readonly path: string) {
    this.greeting = new Promise((resolve, reject) => {
      this.greeted = resolve;
      this.notGreeted = reject;
    });
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => this.receive(text));
    socket.on('error', (error) => this.closeWith(`QMP connection error: ${error.message}`));
    socket.on('close', () => this.closeWith('QMP connection closed'));
  }

  /** Connect (retrying until the socket accepts), read the greeting and leave negotiation mode. */
  static async connect(path: string, options: QmpConnectOptions = {}): Promise<QmpClient> {
    const { timeout = '10s', isAlive = () => undefined } = options;
    const socket = await waitUntil(async () => {
      const gone = isAlive();
      if (gone !== undefined) throw new QmpError(`cannot connect to QMP at ${path}: ${gone}`, { path });
      try {
        return { done: true, value: await openSocket(path) };
      } catch (error) {
        return { done: false, observation: (error as Error).message };
      }
    }, { what: `the QMP socket ${path}`, timeout, interval: '100ms', context: { path } });
    const client = new QmpClient(socket, path);
    const timer = setTimeout(() => client.closeWith(`no QMP greeting within ${timeout}`), toMs(timeout));
    try {
      await client.greeting;
    } catch (error) {
      client.close();
      throw error;
    } finally {
      clearTimeout(timer);
    }
    await client.execute('qmp_capabilities');
    return client;
  }

  /** Run a command; resolves with its `return` value, rejects with qemu's `error.desc`. */
  execute<T = unknown>(command: string, args?: Record<string, unknown>, options: QmpExecuteOptions = {}): Promise<T> {
    if (this.closedReason !== undefined) return Promise.reject(new QmpError(`${command}: ${this.closedReason}`, { command }));
    const id = this.nextId++;
    const timeoutMs = toMs(options.timeout ?? '30s');
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new QmpError(`${command}: no answer within ${options.timeout ?? '30s'}`, { command }));
      }, timeoutMs);
      this.pending.set(id, {
        command,
        resolve: (value) => { clearTimeout(timer); resolve(value as T); },
        reject: (error) => { clearTimeout(timer); reject(error); },
      });
      this.socket.write(`${JSON.stringify({ execute: command, ...(args && { arguments: args }), id })}\n`);
    });
  }

  /** Resolve with the first event named `name` received from now on (or already received, if `past`). */
  waitForEvent(name: string, options: { timeout?: Duration; past?: boolean } = {}): Promise<QmpEvent> {
    const seen = options.past ? this.events.find((e) => e.event === name) : undefined;
    if (seen) return Promise.resolve(seen);
    const timeoutMs = toMs(options.timeout ?? '30s');
    return new Promise<QmpEvent>((resolve, reject) => {
      const listener = (event: QmpEvent): void => {
        if (event.event !== name) return;
        clearTimeout(timer);
        this.eventListeners.delete(listener);
        resolve(event);
      };
      const timer = setTimeout(() => {
        this.eventListeners.delete(listener);
        reject(new QmpError(`no ${name} event within ${options.timeout ?? '30s'}`, { event: name }));
      }, timeoutMs);
      this.eventListeners.add(listener);
    });
  }

  get closed(): boolean {
    return this.closedReason !== undefined;
  }

  close(): void {
    this.closeWith('QMP connection closed by the harness');
  }

  private receive(text: string): void {
    this.buffer += text;
    const lines = this.buffer.split('\n');
    this.buffer = lines.pop() ?? '';
    for (const line of lines) {
      if (line.trim() === '') continue;
      let message: Record<string, unknown>;
      try {
        message = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue; // QMP speaks JSON only; a garbled line cannot be attributed to a command
      }
      this.dispatch(message);
    }
  }

  private dispatch(message: Record<string, unknown>): void {
    if (this.greeted) {
      // The first message must be the greeting: anything else is not a QMP server.
      if (!('QMP' in message)) return this.closeWith(`expected a QMP greeting, got ${JSON.stringify(message).slice(0, 200)}`);
      this.greeted(message);
      this.greeted = undefined;
      return;
    }
    if (typeof message.event === 'string') {
      const event = message as unknown as QmpEvent;
      this.events.push(event);
      for (const listener of [...this.eventListeners]) listener(event);
      return;
    }
    const id = typeof message.id === 'number' ? message.id : undefined;
    const pending = id === undefined ? undefined : this.pending.get(id);
    if (!pending || id === undefined) return;
    this.pending.delete(id);
    if ('return' in message) return pending.resolve(message.return);
    const error = (message.error ?? {}) as { class?: string; desc?: string };
    pending.reject(new QmpError(`${pending.command}: ${error.desc ?? JSON.stringify(message)}`, {
      command: pending.command, errorClass: error.class,
    }));
  }

  private closeWith(reason: string): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    if (this.greeted) this.notGreeted?.(new QmpError(`QMP at ${this.path}: ${reason}`, { path: this.path }));
    this.socket.destroy();
    for (const [id, pending] of this.pending) {
      this.pending.delete(id);
      pending.reject(new QmpError(`${pending.command}: ${reason}`, { command: pending.command }));
    }
  }
}

function openSocket(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}
