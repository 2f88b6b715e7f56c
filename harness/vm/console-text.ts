import { StringDecoder } from 'node:string_decoder';

// CSI (colours, cursor moves), OSC (titles) and two-character escapes, as systemd and the kernel emit them.
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[0-~]/g;
// Control characters other than tab, after escapes are gone (NULs, bells, stray \r).
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f]/g;

/**
 * A console line as it is matched and shown: what a terminal would display (a carriage return inside the
 * line, as in systemd's progress spinner, starts it over), without escapes, control characters or
 * trailing blanks.
 */
export function cleanConsoleLine(raw: string): string {
  const line = raw.replace(/\r+$/, '');
  return line.slice(line.lastIndexOf('\r') + 1).replace(ANSI, '').replace(CONTROL, '').trimEnd();
}

/** Splits a byte stream into lines (UTF-8 safe across chunks); the unterminated rest is kept as `partial`. */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private rest = '';

  /** The complete lines this chunk finished, raw (without the newline). */
  push(chunk: Buffer | string): string[] {
    const text = this.rest + (typeof chunk === 'string' ? chunk : this.decoder.write(chunk));
    const lines = text.split('\n');
    this.rest = lines.pop() ?? '';
    return lines;
  }

  /** The unterminated text since the last newline. */
  get partial(): string {
    return this.rest;
  }

  /** End of stream: the unterminated rest as a last line, if any. */
  end(): string[] {
    const last = this.rest + this.decoder.end();
    this.rest = '';
    return last === '' ? [] : [last];
  }
}
