import { LayercheckError } from '../util/errors.js';

/** How much of the unreadable text an error message quotes: enough to recognise it, not a whole log. */
const EXCERPT_CHARS = 160;

/**
 * Tool output this module could not read. It quotes an excerpt of the text, because "could not parse"
 * without the text is useless when the text came from a guest that is gone by the time anyone looks.
 */
export class OutputParseError extends LayercheckError {
  constructor(what: string, text: string, detail = '', options?: { cause?: unknown }) {
    const quoted = excerpt(text);
    super('E_PARSE', `could not read ${what}${detail ? ` (${detail})` : ''}: ${quoted}`, { what, excerpt: quoted, length: text.length }, options);
  }
}

/** A JSON-quoted head of `text` (control characters escaped, so a spinner or `\r` shows as what it is). */
export function excerpt(text: string, max = EXCERPT_CHARS): string {
  if (text.length === 0) return '(empty)';
  if (text.length <= max) return JSON.stringify(text);
  return `${JSON.stringify(text.slice(0, max))}… (${text.length} chars)`;
}
