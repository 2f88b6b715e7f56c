import { REFERENCE_OS } from './disk/reference-os.js';
import { DERIVED_TAG, derivedImage } from './fixtures/derived.js';
import { BASE_TAG, referenceImage } from './fixtures/reference.js';
import { type RepoObject, objectsToFetch } from './fixtures/commit-diff.js';
import { type UpdateRepo, updateRepo } from './fixtures/update-commit.js';
import { StaticHttpServer } from './net/ostree-http.js';
import { AccountingProxy } from './net/proxy.js';
import { type PushedImage, Registry } from './net/registry.js';
import type { OciImage } from './oci/types.js';
import { step } from './util/log.js';
import type { GuestFwd } from './vm/types.js';

/** The repository name images are pushed under. */
export const REPOSITORY = 'refos';

/** The image reference a guest rebases to, e.g. `ostree-unverified-registry:10.0.2.101:5000/refos:derived`. */
export function guestImageReference(tag: string): string {
  return `ostree-unverified-registry:${REFERENCE_OS.registry.guestIp}:${REFERENCE_OS.registry.guestPort}/${REPOSITORY}:${tag}`;
}

/** The refspec of the ostree update a guest rebases to: `refos:refos/x86_64/stable`. */
export const OSTREE_UPDATE_REFSPEC = `${REFERENCE_OS.remote}:${REFERENCE_OS.branch}`;

/**
 * A real registry holding the base and derived images, behind an accounting proxy the guest reaches at
 * 10.0.2.101:5000 through a qemu guestfwd. Owns both servers; dispose stops them.
 */
export class RegistryWorld implements AsyncDisposable {
  private constructor(
    readonly registry: Registry,
    readonly proxy: AccountingProxy,
    readonly base: { image: OciImage; pushed: PushedImage },
    readonly derived: { image: OciImage; pushed: PushedImage; layer: { digest: string; size: number } },
  ) {}

  static async start(): Promise<RegistryWorld> {
    const { image: base } = await referenceImage();
    const { image: derived, info } = await derivedImage();
    const registry = await Registry.start();
    try {
      const pushedBase = await step('registry', 'push the base image', () => registry.push(base.dir, BASE_TAG, REPOSITORY));
      const pushedDerived = await step('registry', 'push the derived image', () => registry.push(derived.dir, DERIVED_TAG, REPOSITORY));
      const proxy = await AccountingProxy.start({ upstream: registry.url, name: 'registry-proxy' });
      return new RegistryWorld(registry, proxy, { image: base, pushed: pushedBase }, { image: derived, pushed: pushedDerived, layer: info.layer });
    } catch (error) {
      await registry.stop();
      throw error;
    }
  }

  /** The forward a machine needs to reach the registry (through the proxy). */
  get guestfwd(): GuestFwd {
    return { ...REFERENCE_OS.registry, hostPort: this.proxy.port };
  }

  /** What a pull of these derived-image blobs costs on the wire: their sizes, summed; NaN for a digest it lacks. */
  derivedLayerBytes(digests: readonly string[]): number {
    const layers = this.derived.image.manifest.layers;
    return digests.reduce((n, d) => n + (layers.find((l) => l.digest === d)?.size ?? Number.NaN), 0);
  }

  /** The image reference a guest rebases to, e.g. `ostree-unverified-registry:10.0.2.101:5000/refos:derived`. */
  guestImage(tag: string): string {
    return guestImageReference(tag);
  }

  async dispose(): Promise<void> {
    await this.proxy.close();
    await this.registry.stop();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}

/**
 * The ostree update source: the archive repo with the update commit, served over HTTP behind an
 * accounting proxy the guest reaches at 10.0.2.100:80 (the disks' `refos` remote).
 */
export class OstreeWorld implements AsyncDisposable {
  private constructor(
    readonly server: StaticHttpServer,
    readonly proxy: AccountingProxy,
    readonly update: UpdateRepo,
    /** What a machine holding the base tree must fetch to upgrade: the pull's floor, object by object. */
    readonly objectsToFetch: readonly RepoObject[],
  ) {}

  static async start(): Promise<OstreeWorld> {
    const update = await updateRepo();
    const objects = await objectsToFetch(update.repo, update.baseCommit, update.commit);
    const server = await StaticHttpServer.start({ root: update.serveDir, name: 'ostree-http' });
    try {
      const proxy = await AccountingProxy.start({ upstream: server.url, name: 'ostree-proxy' });
      return new OstreeWorld(server, proxy, update, objects);
    } catch (error) {
      await server.close();
      throw error;
    }
  }

  get guestfwd(): GuestFwd {
    return { ...REFERENCE_OS.ostreeServer, hostPort: this.proxy.port };
  }

  /** The refspec a guest rebases to: `refos:refos/x86_64/stable`. */
  get refspec(): string {
    return OSTREE_UPDATE_REFSPEC;
  }

  async dispose(): Promise<void> {
    await this.proxy.close();
    await this.server.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}
