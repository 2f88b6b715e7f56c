export * from './types.js';
export * from './layout.js';
export * from './chunk-plan.js';
export * from './chunked-image.js';
export { readPackageFiles, relocate, DPKG_DB } from './dpkg.js';
export { writeTarLayer, type LayerBlob } from './tar-layer.js';
export * from './derive.js';
