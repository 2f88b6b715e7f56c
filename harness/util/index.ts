export * from './errors.js';
export * from './duration.js';
export * from './wait.js';
export * from './log.js';
export * from './cache.js';
export * from './ancestors.js';
