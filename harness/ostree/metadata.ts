import { OutputParseError } from './errors.js';

/**
 * A string value as `ostree show --print-metadata-key=KEY` prints it: GVariant text, `'sha256:…'`
 * in single quotes (double quotes when the value holds a single quote), backslash escapes inside.
 */
export function parseMetadataString(text: string): string {
  const trimmed = text.trim();
  const m = /^'(.*)'$/s.exec(trimmed) ?? /^"(.*)"$/s.exec(trimmed);
  if (!m) throw new OutputParseError('GVariant string', text, 'expected a quoted string such as \'sha256:…\'');
  return (m[1] as string).replace(/\\(.)/g, '$1');
}

/**
 * The commit of a deployment from its directory path, `…/deploy/<osname>/deploy/<commit>.<serial>`
 * (where the `ostree=` karg leads once its symlinks are resolved).
 */
export function parseDeploymentPath(path: string): { commit: string; serial: number } {
  const m = /\/([0-9a-f]{64})\.(\d+)\/?$/.exec(path.trim());
  if (!m) throw new OutputParseError('deployment path', path, 'expected …/deploy/<64 hex>.<serial>');
  return { commit: m[1] as string, serial: Number(m[2]) };
}
