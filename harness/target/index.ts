import { type TargetConfig, readTargetConfig } from './config.js';
import { ReferenceTarget } from './reference-target.js';
import { RpmOstreeTarget } from './rpm-ostree-target.js';
import type { Target } from './types.js';

export * from './config.js';
export * from './firmware.js';
export * from './ignition.js';
export * from './types.js';
export { ReferenceTarget } from './reference-target.js';
export { RpmOstreeTarget, RPM_OSTREE_MEMORY_MIB } from './rpm-ostree-target.js';

export function createTarget(config: TargetConfig): Target {
  return config.kind === 'rpm-ostree' ? new RpmOstreeTarget(config) : new ReferenceTarget(config);
}

let current: Target | undefined;

/** The run's target, from the environment, read once per process. */
export function currentTarget(): Target {
  current ??= createTarget(readTargetConfig());
  return current;
}
