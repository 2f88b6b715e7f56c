import { diskUsage } from '../util/cache.js';
import type { BootSpec } from '../vm/types.js';
import type { DiskBuildRequest, DiskDescription } from './types.js';

/** The description every builder returns: what was asked for, what came out, and how long it took. */
export async function describeDisk(
  builder: string,
  request: DiskBuildRequest,
  built: { qcow2: string; boot: BootSpec; hostKey: string; startedAt: number; ostree?: DiskDescription['ostree'] },
): Promise<DiskDescription> {
  const { image, imageReference, options, clientPublicKey } = request;
  return {
    builder,
    options,
    image: { dir: image.dir, tag: image.tag, reference: imageReference, manifestDigest: image.manifestDigest, layers: image.manifest.layers.map((l) => l.digest) },
    ...(built.ostree ? { ostree: built.ostree } : {}),
    qcow2: built.qcow2,
    qcow2Bytes: await diskUsage(built.qcow2),
    boot: built.boot,
    hostKey: built.hostKey,
    clientPublicKey,
    buildMs: Math.round(performance.now() - built.startedAt),
  };
}
