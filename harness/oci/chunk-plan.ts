import { LayercheckError, describeValue } from '../util/errors.js';

/** A group of packages (or loose files) that becomes one image layer. */
export interface Chunk {
  /** Names shown in the layer's history, e.g. the packages it holds. */
  components: string[];
  /** Paths relative to the rootfs (no directories: they are added as parents of these). */
  files: string[];
  size: number;
}

export interface ChunkInput {
  name: string;
  files: string[];
  size: number;
}

/** Name of the chunk that holds every file no package owns (generated initramfs, edited config, ...). */
export const UNPACKAGED = '(unpackaged)';

/**
 * Split packages into at most `maxLayers` chunks, in the manner of rpm-ostree's chunking: the biggest
 * packages get a layer each (so a change to them re-downloads only themselves), the rest are packed
 * by size into the remaining layers, largest first into the lightest bin. Files no package owns go in
 * a final layer of their own. Pure and deterministic: ties break on names.
 */
export function planChunks(packages: readonly ChunkInput[], unpackaged: ChunkInput, maxLayers: number): Chunk[] {
  if (!Number.isInteger(maxLayers) || maxLayers < 2) {
    throw new LayercheckError('E_BAD_OPTION', `maxLayers must be an integer >= 2, got ${describeValue(maxLayers)}`);
  }
  const sorted = [...packages].filter((p) => p.files.length > 0).sort((a, b) => b.size - a.size || (a.name < b.name ? -1 : 1));
  const slots = maxLayers - 1;
  // About half the slots go to the largest packages alone; the rest (at least one) are shared bins.
  const singles = Math.min(sorted.length, Math.floor(slots / 2));
  const chunks: Chunk[] = sorted.slice(0, singles).map((p) => ({ components: [p.name], files: [...p.files], size: p.size }));
  const bins: Chunk[] = [];
  for (const p of sorted.slice(singles)) {
    if (bins.length < slots - singles) {
      bins.push({ components: [p.name], files: [...p.files], size: p.size });
      continue;
    }
    let lightest = bins[0] as Chunk;
    for (const bin of bins) if (bin.size < lightest.size) lightest = bin;
    lightest.components.push(p.name);
    lightest.files.push(...p.files);
    lightest.size += p.size;
  }
  for (const bin of bins) bin.components.sort();
  chunks.push(...bins);
  if (unpackaged.files.length > 0) chunks.push({ components: [UNPACKAGED], files: [...unpackaged.files], size: unpackaged.size });
  return chunks;
}
