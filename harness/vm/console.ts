import { createWriteStream, type WriteStream } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { type Duration, toMs } from '../util/duration.js';
import { TimeoutError } from '../util/errors.js';
import { logConsole } from '../util/log.js';
import { type ConsoleFailure, type ConsolePattern, KNOWN_CONSOLE_FAILURES, matchKnownFailure } from './console-patterns.js';
import { LineSplitter, cleanConsoleLine } from './console-text.js';
import { MachineError, formatTail } from './errors.js';

export interface ConsoleCaptureOptions {
  /** The machine's name: prefixes echoed lines and errors. */
  name: string;
  /** Every console byte is appended here, raw. */
  logPath: string;
  /** Print each line as `name # text`. @default process.env.E2E_CONSOLE === '1' */
  echo?: boolean;
  /** Lines kept for `tail()` (across boots). @default 200 */
  tailSize?: number;
  /** @default KNOWN_CONSOLE_FAILURES */
  failurePatterns?: readonly ConsolePattern[];
}

/** A console line and when it arrived: milliseconds since its boot's qemu was launched (host clock). */
export interface ConsoleLine {
  text: string;
  atMs: number;
}

export interface WaitForTextOptions {
  /** @default '60s' */
  timeout?: Duration;
  /** Stop waiting (rejects with the signal's reason). */
  signal?: AbortSignal;
}

/** Lines of one boot kept for matching; a runaway console must not eat the host's memory. */
const MAX_BOOT_LINES = 100_000;

/**
 * The serial console of one machine across its boots: raw bytes to the log file, cleaned lines to
 * matching, a tail for error messages, and the known-failure scan. Each qemu process is one boot.
 */
export class ConsoleCapture {
  readonly name: string;
  readonly logPath: string;
  private readonly file: WriteStream;
  private readonly echo: boolean;
  private readonly tailSize: number;
  private readonly patterns: readonly ConsolePattern[];
  private readonly ring: string[] = [];
  private bootLines: string[] = [];
  /** Arrival time of each of `bootLines` (`performance.now()`). */
  private bootTimes: number[] = [];
  private bootStartedAt = 0;
  /** Lines of this boot dropped from the front of `bootLines` (the cap), so waiters keep their place. */
  private bootDropped = 0;
  private boot = 0;
  private splitter = new LineSplitter();
  private bootFailure: ConsoleFailure | undefined;
  private readonly allFailures: ConsoleFailure[] = [];
  private ended = true;
  private readonly listeners = new Set<() => void>();

  private constructor(options: ConsoleCaptureOptions, file: WriteStream) {
    this.name = options.name;
    this.logPath = options.logPath;
    this.file = file;
    this.echo = options.echo ?? process.env.E2E_CONSOLE === '1';
    this.tailSize = options.tailSize ?? 200;
    this.patterns = options.failurePatterns ?? KNOWN_CONSOLE_FAILURES;
  }

  static async open(options: ConsoleCaptureOptions): Promise<ConsoleCapture> {
    await mkdir(dirname(options.logPath), { recursive: true });
    const file = createWriteStream(options.logPath, { flags: 'a' });
    await new Promise<void>((resolve, reject) => file.once('open', () => resolve()).once('error', reject));
    return new ConsoleCapture(options, file);
  }

  /**
   * Start a boot: consume qemu's stdout. `banner` is written to the log file only, to separate boots.
   * `startedAt` (`performance.now()` when qemu was launched) is the zero of this boot's line times.
   */
  attach(stream: Readable, banner?: string, startedAt = performance.now()): void {
    const boot = ++this.boot;
    this.splitter = new LineSplitter();
    this.bootLines = [];
    this.bootTimes = [];
    this.bootStartedAt = startedAt;
    this.bootDropped = 0;
    this.bootFailure = undefined;
    this.ended = false;
    this.notify(); // waiters of the previous boot end here
    if (banner !== undefined) this.file.write(`${this.file.bytesWritten + this.file.writableLength > 0 ? '\n' : ''}===== ${banner} =====\n`);
    // A previous boot's stream may still deliver its last bytes: into the file, not into this boot's lines.
    stream.on('data', (chunk: Buffer) => (boot === this.boot ? this.consume(chunk) : this.file.write(chunk)));
    stream.once('close', () => boot === this.boot && this.finish());
  }

  /** The last `n` cleaned lines (the unterminated one included), oldest first. */
  tail(n = 40): string[] {
    const partial = cleanConsoleLine(this.splitter.partial);
    const lines = partial === '' ? this.ring : [...this.ring, partial];
    return lines.slice(-n);
  }

  /** The first known failure of every boot that had one, oldest first. */
  get failures(): readonly ConsoleFailure[] {
    return this.allFailures;
  }

  /** The first known failure seen on this boot's console. */
  get failure(): ConsoleFailure | undefined {
    return this.bootFailure;
  }

  /** The first line of the current boot matching `pattern` so far, with its arrival time; never waits. */
  findLine(pattern: RegExp): ConsoleLine | undefined {
    const i = this.bootLines.findIndex((line) => test(pattern, line));
    return i < 0 ? undefined : this.lineAt(i);
  }

  /**
   * Resolve with the first line of the current boot (already printed or still to come) matching
   * `pattern`. Fails at once on a known console failure or when the console ends (qemu exited).
   */
  async waitForText(pattern: RegExp, options: WaitForTextOptions = {}): Promise<string> {
    return (await this.waitForLine(pattern, options)).text;
  }

  /** `waitForText`, with the line's arrival time. */
  waitForLine(pattern: RegExp, options: WaitForTextOptions = {}): Promise<ConsoleLine> {
    const timeoutMs = toMs(options.timeout ?? '60s');
    const boot = this.boot;
    let next = 0; // index (counting dropped lines) of the first line of this boot not yet tested
    return new Promise<ConsoleLine>((resolve, reject) => {
      const check = (): void => {
        const ended = (): void => settle(() => reject(this.error('E_CONSOLE_ENDED', `the console ended (qemu exited) before a line matched ${pattern}`)));
        if (boot !== this.boot) return ended();
        for (let i = Math.max(0, next - this.bootDropped); i < this.bootLines.length; i++) {
          const line = this.bootLines[i]!;
          if (test(pattern, line)) return settle(() => resolve(this.lineAt(i)));
        }
        next = this.bootDropped + this.bootLines.length;
        const partial = cleanConsoleLine(this.splitter.partial);
        if (partial !== '' && test(pattern, partial)) return settle(() => resolve({ text: partial, atMs: performance.now() - this.bootStartedAt }));
        const failure = this.bootFailure;
        if (failure) return settle(() => reject(this.failureError(failure)));
        if (this.ended) return ended();
      };
      const onAbort = (): void => settle(() => reject(options.signal?.reason));
      const timer = setTimeout(() => settle(() => reject(new TimeoutError(
        `console text ${pattern} on ${this.name}`, timeoutMs, `last console lines:\n${formatTail(this.tail())}`, { machine: this.name },
      ))), timeoutMs);
      const settle = (action: () => void): void => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        this.listeners.delete(check);
        action();
      };
      if (options.signal?.aborted) return onAbort();
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.listeners.add(check);
      check();
    });
  }

  /** The console tail as it ends failure messages. */
  describe(lines = 40): string {
    return `last console lines (${this.logPath}):\n${formatTail(this.tail(lines))}`;
  }

  /** An error about this machine whose message ends with the console tail. */
  error(code: string, message: string, context: Record<string, unknown> = {}, cause?: unknown): MachineError {
    return new MachineError(code, this.name, `${message}\n${this.describe()}`, { ...context, consoleLog: this.logPath }, cause === undefined ? undefined : { cause });
  }

  failureError(failure: ConsoleFailure): MachineError {
    return this.error('E_CONSOLE_FAILURE', `${failure.description}: console printed ${JSON.stringify(failure.line)}`, { failure });
  }

  /** Flush and close the log file. */
  async close(): Promise<void> {
    if (this.file.closed) return;
    await new Promise<void>((resolve) => this.file.end(() => resolve()));
  }

  private consume(chunk: Buffer): void {
    this.file.write(chunk);
    for (const raw of this.splitter.push(chunk)) this.addLine(raw);
    this.notify();
  }

  private finish(): void {
    for (const raw of this.splitter.end()) this.addLine(raw);
    this.ended = true;
    this.notify();
  }

  private addLine(raw: string): void {
    const line = cleanConsoleLine(raw);
    this.ring.push(line);
    if (this.ring.length > this.tailSize) this.ring.shift();
    this.bootLines.push(line);
    this.bootTimes.push(performance.now());
    if (this.bootLines.length > MAX_BOOT_LINES) {
      this.bootLines.shift();
      this.bootTimes.shift();
      this.bootDropped++;
    }
    if (this.bootFailure === undefined) {
      this.bootFailure = matchKnownFailure(line, this.patterns);
      if (this.bootFailure) this.allFailures.push(this.bootFailure);
    }
    if (this.echo) logConsole(this.name, line);
  }

  private lineAt(i: number): ConsoleLine {
    return { text: this.bootLines[i]!, atMs: this.bootTimes[i]! - this.bootStartedAt };
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

/** `RegExp.test` without the `lastIndex` trap of global and sticky patterns. */
function test(pattern: RegExp, line: string): boolean {
  pattern.lastIndex = 0;
  return pattern.test(line);
}
