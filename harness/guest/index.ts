export * from './types.js';
export * from './ostree-driver.js';
export * from './updater-driver.js';
export * from './rpm-ostree-driver.js';
export * from './sudo.js';
