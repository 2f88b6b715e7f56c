/** A second scenario file, so that a sharded run (`--shard=1/2`, `--shard=2/2`) has one file per shard. */
import { describe, expect } from 'vitest';
import { scenario } from '../../../testing.js';

describe.runIf(process.env.FAKE_E2E_SECOND === '1')('upgrade (fake)', () => {
  scenario('plain ostree update: layer refs pruned', async ({ metric }) => {
    metric('upgrade.commit.bytes', 1_048_576, 'bytes');
    expect(1 + 1).toBe(2);
  });
});
