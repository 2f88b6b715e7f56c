/** The library scenarios import. */
export * from './util/index.js';
export * from './ostree/index.js';
export * from './ssh/index.js';
export * from './vm/index.js';
export * from './oci/index.js';
export * from './disk/index.js';
export * from './guest/index.js';
export * from './report/index.js';
export * from './fixtures/index.js';
export * from './machines.js';
export * from './net/index.js';
export * from './worlds.js';
