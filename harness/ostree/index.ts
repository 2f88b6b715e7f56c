/**
 * Pure readers of ostree, rpm-ostree and bootc output, and the ref names ostree-rs-ext uses. No I/O:
 * guest drivers run the commands and hand the text here, so every format quirk lives in one place.
 */
export { OutputParseError, excerpt } from './errors.js';
export {
  escapeRef,
  unescapeRef,
  layerRef,
  imageRef,
  isDigest,
  parseRefs,
  LAYER_REF_PREFIX,
  IMAGE_REF_PREFIX,
  type ParsedRefs,
} from './refs.js';
export { parseSize } from './size.js';
export { parsePullSummary, type PullSummary } from './pull.js';
export { parseLayerReport, type LayerReport, type FetchedLayer } from './layers.js';
export { parseStatus, type Deployment } from './status.js';
export { parseMetadataString, parseDeploymentPath } from './metadata.js';
