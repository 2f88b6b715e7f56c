export * from './types.js';
export * from './boot-entry.js';
export * from './boot-files.js';
export * from './reference-os.js';
export { ReferenceDiskBuilder } from './reference-builder.js';
export { ExternalDiskBuilder, builderEnvironment } from './external-builder.js';
