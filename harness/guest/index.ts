export * from './types.js';
export * from './ostree-driver.js';
