export * from './metrics.js';
export * from './history.js';
export * from './baseline.js';
export * from './gate.js';
export * from './trend.js';
export * from './allure.js';
export * from './progress.js';
export * from './paths.js';
