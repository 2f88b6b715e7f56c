import { OutputParseError } from './errors.js';

/** ostree-rs-ext stores each layer of a pulled image under this prefix (store.rs `LAYER_PREFIX`). */
export const LAYER_REF_PREFIX = 'ostree/container/blob/';
/** ...and the merged commit of a pulled image under this one (store.rs `IMAGE_PREFIX`). */
export const IMAGE_REF_PREFIX = 'ostree/container/image/';

/** What `ostree refs` lists, sorted into the three kinds the harness asserts on. */
export interface ParsedRefs {
  /** Layer refs as OCI digests (`sha256:<hex>`), in the order printed. */
  layers: string[];
  /** Merged image refs as image references (`docker://quay.io/fedora/fedora-coreos:stable`). */
  images: string[];
  /** Every other ref, verbatim: remote refs (`fedora:fedora/x86_64/coreos/stable`), deployment refs (`ostree/1/1/0`), ... */
  other: string[];
}

const ASCII_ALNUM = /^[A-Za-z0-9]$/;
const HEX = /^[0-9A-Fa-f]+$/;

/**
 * ostree-rs-ext's `escape_for_ref` (refescape.rs): ASCII letters, digits and `-` stay; `_` becomes `__`;
 * `/` stays only right after an ASCII alphanumeric and when more follows (so no empty path component);
 * anything else becomes `_XX_`, the upper-case hex of its Unicode code point (`c as u32`, at least two
 * digits, e.g. `é` -> `_E9_`, `😀` -> `_1F600_`), not of its UTF-8 bytes.
 *
 * Unlike the Rust function this never refuses: the empty string maps to itself and NUL to `_00_`, so
 * that `unescapeRef(escapeRef(s)) === s` holds for every JavaScript string (lone surrogates included,
 * since they are code points too). Rust rejects those two inputs, so no real ref contains them.
 */
export function escapeRef(s: string): string {
  const chars = Array.from(s);
  let out = '';
  let previousAlnum = false;
  chars.forEach((c, i) => {
    const alnum = ASCII_ALNUM.test(c);
    if (alnum || c === '-') out += c;
    else if (c === '/' && previousAlnum && i + 1 < chars.length) out += c;
    else if (c === '_') out += '__';
    else out += `_${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(2, '0')}_`;
    previousAlnum = alnum;
  });
  return out;
}

/**
 * Exact inverse of {@link escapeRef} (ostree-rs-ext `unescape_for_ref`). Stricter than the Rust code on
 * input `escapeRef` never produces (a dangling `_`, an unterminated `_XX`, a character outside
 * `[A-Za-z0-9/_-]`): those throw {@link OutputParseError} instead of yielding a guess.
 */
export function unescapeRef(s: string): string {
  const chars = Array.from(s);
  let out = '';
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i] as string;
    if (ASCII_ALNUM.test(c) || c === '-' || c === '/') {
      out += c;
      continue;
    }
    if (c !== '_') throw new OutputParseError('escaped ostree ref', s, `character ${JSON.stringify(c)} at ${i}`);
    if (chars[i + 1] === '_') {
      out += '_';
      i += 1;
      continue;
    }
    const close = chars.indexOf('_', i + 1);
    const hex = close === -1 ? '' : chars.slice(i + 1, close).join('');
    const codePoint = Number.parseInt(hex, 16);
    if (close === -1 || !HEX.test(hex) || codePoint > 0x10ffff) {
      throw new OutputParseError('escaped ostree ref', s, `bad escape at ${i}`);
    }
    out += String.fromCodePoint(codePoint);
    i = close;
  }
  return out;
}

// OCI image-spec digest grammar; sha256/sha512 additionally pin the encoded length.
const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const DIGEST_LENGTH: Record<string, number> = { sha256: 64, sha512: 128 };

/** Whether `s` is an OCI digest such as `sha256:<64 lower-case hex>`. */
export function isDigest(s: string): boolean {
  if (!DIGEST.test(s)) return false;
  const [algorithm = '', encoded = ''] = s.split(':');
  const length = DIGEST_LENGTH[algorithm];
  return length === undefined || (encoded.length === length && /^[a-f0-9]+$/.test(encoded));
}

/** `sha256:<hex>` -> `ostree/container/blob/sha256_3A_<hex>`, the ref ostree-rs-ext keeps for that layer. */
export function layerRef(digest: string): string {
  if (!isDigest(digest)) throw new OutputParseError('OCI digest', digest, 'expected e.g. sha256:<64 hex>');
  return LAYER_REF_PREFIX + escapeRef(digest);
}

/** `docker://quay.io/x:y` -> `ostree/container/image/docker_3A__2F__2F_quay_2E_io/x_3A_y` (store.rs `ref_for_image`). */
export function imageRef(imageReference: string): string {
  if (imageReference.length === 0) throw new OutputParseError('image reference', imageReference);
  return IMAGE_REF_PREFIX + escapeRef(imageReference);
}

// ostree's refspec grammar (ostree-core.c): an optional `remote:` then `/`-separated components of
// `[\w\d][-._\w\d]*`. Anything else on a line is not a ref (an error message, a prompt, a truncation).
const REF = /^[\w][-.\w]*(?:\/[-.\w]+)*$/;
const REMOTE = /^[\w][-.\w]*$/;

/**
 * Sorts full `ostree refs` output into layers, images and everything else. Only local refs count as
 * layers or images: ostree-rs-ext reads and garbage-collects local refs only, so a `remote:`-prefixed
 * ref under `ostree/container/` is a mirrored remote ref and stays, verbatim, in `other`.
 *
 * `ostree refs PREFIX` strips the prefix from what it prints, so pass the output of plain `ostree refs`
 * (not `--collections`, whose `(id, ref)` lines throw rather than being filed under the wrong kind).
 * Empty output throws: a booted sysroot always has its deployment refs (`ostree/0/1/0`), so an empty
 * answer means the command's output was lost, not that the repository is empty.
 */
export function parseRefs(output: string): ParsedRefs {
  const lines = output
    .split(/\r?\n|\r/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
  if (lines.length === 0) throw new OutputParseError('`ostree refs` output', output, 'no refs at all');
  const parsed: ParsedRefs = { layers: [], images: [], other: [] };
  for (const line of lines) {
    const colon = line.indexOf(':');
    const remote = colon === -1 ? undefined : line.slice(0, colon);
    const ref = colon === -1 ? line : line.slice(colon + 1);
    if ((remote !== undefined && !REMOTE.test(remote)) || !REF.test(ref)) {
      throw new OutputParseError('`ostree refs` output', line, 'not a ref');
    }
    if (remote !== undefined) {
      parsed.other.push(line);
    } else if (ref.startsWith(LAYER_REF_PREFIX)) {
      const digest = unescapeRef(ref.slice(LAYER_REF_PREFIX.length));
      // A non-digest under the layer prefix means our model of the store is wrong: say so, do not guess.
      if (!isDigest(digest)) throw new OutputParseError('layer ref', line, `unescapes to ${JSON.stringify(digest)}, not a digest`);
      parsed.layers.push(digest);
    } else if (ref.startsWith(IMAGE_REF_PREFIX)) {
      const image = unescapeRef(ref.slice(IMAGE_REF_PREFIX.length));
      if (image.length === 0) throw new OutputParseError('image ref', line, 'empty image reference');
      parsed.images.push(image);
    } else {
      parsed.other.push(line);
    }
  }
  return parsed;
}
