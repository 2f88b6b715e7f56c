import { describe, it, expect } from 'vitest';
import * as ostree from './index.js';

describe('harness/ostree public API', () => {
  it('exports the readers the guest drivers use', () => {
    for (const name of ['escapeRef', 'unescapeRef', 'layerRef', 'parseRefs', 'parseSize', 'parsePullSummary', 'parseLayerReport', 'parseStatus'] as const) {
      expect(typeof ostree[name], name).toBe('function');
    }
    expect(new ostree.OutputParseError('x', 'y').code).toBe('E_PARSE');
  });
});
