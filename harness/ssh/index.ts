export * from './errors.js';
export * from './keys.js';
export * from './quote.js';
export * from './session.js';
export type * from './types.js';
