import { describe, expect, it } from 'vitest';
import { assertNoContainerRefs } from './checks.js';
import { parseRefs } from './ostree/index.js';

const LAYER = `sha256:${'ab'.repeat(32)}`;

describe('assertNoContainerRefs', () => {
  it('passes when only remote and deployment refs are left', () => {
    expect(() => assertNoContainerRefs('m', parseRefs('refos:refos/x86_64/stable\nostree/0/1/0\n'), 'after upgrade')).not.toThrow();
  });

  it('fails listing every leftover layer and image ref as ostree prints them', () => {
    const refs = parseRefs(`ostree/container/blob/sha256_3A_${'ab'.repeat(32)}\nostree/container/image/docker_3A__2F__2F_h/x_3A_y\nostree/0/1/0\n`);
    expect(refs.layers).toEqual([LAYER]);
    expect(() => assertNoContainerRefs('upgrade-seed', refs, 'right after staging')).toThrowError(
      `upgrade-seed: right after staging, 1 layer ref(s) and 1 image ref(s) were not pruned:\n  ostree/container/blob/sha256_3A_${'ab'.repeat(32)}\n  ostree/container/image/docker_3A__2F__2F_h/x_3A_y`,
    );
  });
});
