import { ensureHostTools } from '../fixtures/host-packages.js';
import { currentTarget } from './index.js';

/** Before a run: the target configuration is valid and the host has what that target needs (installed as root). */
export async function preflight(): Promise<void> {
  const target = currentTarget();
  const { tools, files } = target.hostRequirements();
  await ensureHostTools(tools, undefined, { files, needsRoot: target.config.kind === 'reference' });
}
