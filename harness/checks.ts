import { imageRef, layerRef, type ParsedRefs } from './ostree/index.js';
import { AssertionFailure } from './ssh/errors.js';

/**
 * The seed's second promise, as one check: no layer ref and no merged image ref left. On failure the
 * message lists every leftover ref as `ostree refs` prints it, so a report shows what was not pruned
 * (the rpm-ostree v2023.8–v2023.11 regression looks exactly like this).
 */
export function assertNoContainerRefs(machine: string, refs: ParsedRefs, when: string): void {
  const leftover = [...refs.layers.map(layerRef), ...refs.images.map(imageRef)];
  if (leftover.length === 0) return;
  throw new AssertionFailure(
    'E_LAYER_REFS_NOT_PRUNED',
    `${machine}: ${when}, ${refs.layers.length} layer ref(s) and ${refs.images.length} image ref(s) were not pruned:\n${leftover.map((r) => `  ${r}`).join('\n')}`,
    { machine, when, leftover },
  );
}
