/** Build (or find cached) every fixture the scenarios use, and print what they are. `npm run fixtures`. */
import { SEED_DISK_OPTIONS } from '../harness/disk/index.js';
import { clientKey, ensureHostTools, referenceDisk, referenceImage } from '../harness/fixtures/index.js';
import { updateRepo } from '../harness/fixtures/update-commit.js';
import { formatMs } from '../harness/util/index.js';

await ensureHostTools();
const started = performance.now();
const { info } = await referenceImage();
console.log(`image ${info.manifestDigest}: ${info.layers.length} layers`);
await clientKey();
for (const options of [{}, { layerRefs: 'drop' as const }, { mergedRef: 'keep' as const }, SEED_DISK_OPTIONS]) {
  const { disk, hit } = await referenceDisk(options);
  console.log(`disk ${JSON.stringify(disk.options)}: ${disk.qcow2} (${(disk.qcow2Bytes / 2 ** 20).toFixed(0)} MiB${hit ? ', cached' : ''})`);
}
const update = await updateRepo();
console.log(`ostree update ${update.commit} on ${update.branch}: ${update.repo}`);
console.log(`fixtures ready in ${formatMs(performance.now() - started)}`);
