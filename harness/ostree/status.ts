import { OutputParseError } from './errors.js';

/** One entry of `rpm-ostree status --json` `deployments[]` (also printed by the reference updater). */
export interface Deployment {
  /** The deployed ostree commit. */
  checksum: string;
  booted: boolean;
  /** Queued for the next boot and not yet finalized (`staged` is absent when false in older rpm-ostree). */
  staged: boolean;
  /** Plain ostree refspec, e.g. `fedora:fedora/x86_64/coreos/stable`; absent for container deployments. */
  origin?: string;
  /** e.g. `ostree-unverified-registry:quay.io/fedora/fedora-coreos:stable` */
  containerImageReference?: string;
  /** Manifest digest of that image, `sha256:<hex>` */
  containerImageDigest?: string;
  version?: string;
}

const WHAT = '`rpm-ostree status --json` output';
const CHECKSUM = /^[0-9a-f]{64}$/;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The deployments of `rpm-ostree status --json`, in rpm-ostree's order (the next boot first). Anything
 * that is not that document (not JSON, truncated, no `deployments`, a deployment without a commit
 * checksum, two booted deployments) throws {@link OutputParseError}: a status the harness cannot trust
 * must stop the scenario, not be half-read.
 */
export function parseStatus(json: string): Deployment[] {
  let root: unknown;
  try {
    root = JSON.parse(json);
  } catch (cause) {
    // The parser's message says where it stopped, which tells a truncation from garbage.
    const where = cause instanceof Error ? cause.message : String(cause);
    throw new OutputParseError(WHAT, json, `not JSON: ${where}`, { cause });
  }
  if (!isObject(root) || !Array.isArray(root.deployments)) throw new OutputParseError(WHAT, json, 'no deployments array');
  // A booted ostree system always has its booted deployment; an empty list means the text is not from one.
  if (root.deployments.length === 0) throw new OutputParseError(WHAT, json, 'empty deployments array');

  const deployments = root.deployments.map((entry: unknown, index): Deployment => {
    const bad = (detail: string): never => {
      throw new OutputParseError(WHAT, JSON.stringify(entry) ?? String(entry), `deployments[${index}]: ${detail}`);
    };
    if (!isObject(entry)) return bad('not an object');
    const checksum = entry.checksum;
    if (typeof checksum !== 'string' || !CHECKSUM.test(checksum)) return bad('no commit checksum');
    const flag = (key: string): boolean => {
      const value = entry[key];
      if (value === undefined) return false;
      return typeof value === 'boolean' ? value : bad(`${key} is not a boolean`);
    };
    const text = (key: string): string | undefined => {
      const value = entry[key];
      if (value === undefined || value === null) return undefined;
      return typeof value === 'string' ? value : bad(`${key} is not a string`);
    };
    const deployment: Deployment = { checksum, booted: flag('booted'), staged: flag('staged') };
    const optional = {
      origin: text('origin'),
      containerImageReference: text('container-image-reference'),
      containerImageDigest: text('container-image-reference-digest'),
      version: text('version'),
    };
    for (const [key, value] of Object.entries(optional)) {
      if (value !== undefined) deployment[key as keyof typeof optional] = value;
    }
    return deployment;
  });

  for (const key of ['booted', 'staged'] as const) {
    if (deployments.filter((d) => d[key]).length > 1) throw new OutputParseError(WHAT, json, `more than one ${key} deployment`);
  }
  return deployments;
}
