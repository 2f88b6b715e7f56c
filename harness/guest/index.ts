export * from './types.js';
export * from './ostree-driver.js';
export * from './updater-driver.js';
