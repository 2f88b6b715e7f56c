import { type FileHandle, open, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { dir } from 'tmp-promise';
import { aptInstallLine, findCommand, missingPackages } from '../fixtures/host-packages.js';
import { readImage, sha256Digest } from '../oci/layout.js';
import { MediaType } from '../oci/types.js';
import type { Duration } from '../util/duration.js';
import { LayercheckError, SetupError, describeValue } from '../util/errors.js';
import { log, step } from '../util/log.js';
import { waitUntil } from '../util/wait.js';
import { findQuietPort } from '../vm/port.js';
import { type Reapable, killQuietly, register } from '../vm/registry.js';
import { httpRequest } from './http-get.js';

/** The host tools a registry needs, and the Debian packages that provide them. */
export const REGISTRY_TOOLS = [
  { command: 'docker-registry', pkg: 'docker-registry' },
  { command: 'skopeo', pkg: 'skopeo' },
  { command: 'setpriv', pkg: 'util-linux' },
] as const;

/** Throw a `SetupError` naming the apt-get line when a tool the registry needs is missing. */
export function assertRegistryTools(find: (command: string) => string | undefined = findCommand): void {
  const missing = missingPackages(REGISTRY_TOOLS, find);
  if (missing.length > 0) {
    throw new SetupError(`the registry needs ${REGISTRY_TOOLS.map((t) => t.command).join(', ')}; install with: ${aptInstallLine(missing)}`, { missing });
  }
}

export interface RegistryOptions {
  /** Names the registry in log lines. @default 'registry' */
  name?: string;
  /** How long the registry may take to answer `GET /v2/`. @default '30s' */
  startTimeout?: Duration;
}

/** An image the registry now holds. */
export interface PushedImage {
  /** Repository name, e.g. `refos`. */
  name: string;
  tag: string;
  /** `127.0.0.1:PORT/NAME:TAG`, as the host reaches it. */
  reference: string;
  /** Equal to the local layout's manifest digest (checked after the push). */
  manifestDigest: string;
}

/** Lines of the registry's output kept for error messages. */
const TAIL_LINES = 200;
/** The registry dies at once when its port was taken between our check and its bind; try another. */
const PORT_ATTEMPTS = 3;
const NAME = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^\w[\w.-]{0,127}$/;

/**
 * A real registry, Debian's `docker-registry` (distribution 2.8), on a loopback port with its storage in
 * a temp dir. Filesystem storage serves blobs directly (no redirects). Images go in with `skopeo copy`,
 * which keeps their digests. Stopping SIGKILLs the process by pid and removes the temp dir; an
 * interrupted run is cleaned up by the harness's process registry.
 */
export class Registry implements AsyncDisposable {
  readonly name: string;
  readonly port: number;
  readonly pid: number;
  /** The storage root (`rootdirectory` of the filesystem driver). */
  readonly storageDir: string;
  readonly #tempDir: string;
  readonly #process: ResultPromise;
  readonly #output: string[];
  readonly #reapable: { entry: Reapable; unregister: () => void };
  #exited: string | undefined;
  #stopped: Promise<void> | undefined;

  private constructor(init: { name: string; port: number; pid: number; tempDir: string; process: ResultPromise; output: string[]; reapable: { entry: Reapable; unregister: () => void } }) {
    this.name = init.name;
    this.port = init.port;
    this.pid = init.pid;
    this.#tempDir = init.tempDir;
    this.storageDir = path.join(init.tempDir, 'storage');
    this.#process = init.process;
    this.#output = init.output;
    this.#reapable = init.reapable;
    void this.#process.then((result) => {
      this.#exited = result.signal ? `was killed by ${result.signal}` : `exited with code ${result.exitCode}`;
    });
  }

  /** Start a registry on a free loopback port and wait until `GET /v2/` answers 200. */
  static async start(options: RegistryOptions = {}): Promise<Registry> {
    const { name = 'registry', startTimeout = '30s' } = options;
    assertRegistryTools();
    return step(name, 'starting docker-registry', async () => {
      const reapable = register(name);
      const temp = await dir({ prefix: `layercheck-${name}-`, unsafeCleanup: true });
      reapable.entry.tempDir = temp.path;
      try {
        for (let attempt = 1; ; attempt++) {
          const registry = await Registry.#spawn(name, temp.path, await findQuietPort(), reapable);
          try {
            await registry.#waitReady(startTimeout);
            log(name, `docker-registry at ${registry.url} (pid ${registry.pid})`);
            return registry;
          } catch (error) {
            const raced = registry.#exited !== undefined && /address already in use/.test(registry.logTail());
            registry.#kill();
            await registry.#process;
            if (!raced || attempt >= PORT_ATTEMPTS) throw error;
          }
        }
      } catch (error) {
        await rm(temp.path, { recursive: true, force: true });
        reapable.unregister();
        throw error;
      }
    });
  }

  static async #spawn(name: string, tempDir: string, port: number, reapable: { entry: Reapable; unregister: () => void }): Promise<Registry> {
    const storage = path.join(tempDir, 'storage');
    const config = path.join(tempDir, 'config.yml');
    await writeFile(config, registryConfig(port, storage));
    const child = execa('setpriv', ['--pdeathsig', 'KILL', '--', 'docker-registry', 'serve', config], {
      stdin: 'ignore',
      buffer: false,
      reject: false,
      cleanup: true,
    });
    const output: string[] = [];
    const keep = (chunk: Buffer): void => {
      output.push(...chunk.toString('utf8').split('\n').filter((line) => line.trim() !== ''));
      if (output.length > TAIL_LINES) output.splice(0, output.length - TAIL_LINES);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    if (child.pid === undefined) {
      const result = await child;
      throw new SetupError(`cannot start docker-registry: ${result.message}`);
    }
    reapable.entry.pid = child.pid;
    return new Registry({ name, port, pid: child.pid, tempDir, process: child, output, reapable });
  }

  /** `127.0.0.1:PORT`, the host part of image references. */
  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** `http://127.0.0.1:PORT`: put an `AccountingProxy` in front of this. */
  get url(): string {
    return `http://${this.host}`;
  }

  /** The last `lines` lines the registry printed (its log on stderr, its access log on stdout). */
  logTail(lines = 40): string {
    return this.#output.slice(-lines).join('\n');
  }

  /**
   * Push the image tagged `tag` in the OCI layout `ociDir` as `NAME:TAG`, then check that the registry
   * serves the very manifest the layout holds (same sha256), or throw `E_DIGEST_CHANGED`.
   */
  async push(ociDir: string, tag: string, name: string): Promise<PushedImage> {
    if (ociDir.includes(':')) throw new LayercheckError('E_BAD_PATH', `skopeo's oci: transport cannot name a directory containing \`:\`, got ${describeValue(ociDir)}`);
    if (!NAME.test(name)) throw new LayercheckError('E_BAD_NAME', `a repository name is lower-case components joined by \`/\` (like \`refos\`), got ${describeValue(name)}`);
    if (!TAG.test(tag)) throw new LayercheckError('E_BAD_TAG', `a tag is up to 128 letters, digits, \`_\`, \`.\` and \`-\`, got ${describeValue(tag)}`);
    const local = await readImage(ociDir, tag);
    const reference = `${this.host}/${name}:${tag}`;
    return step(this.name, `push ${local.manifestDigest.slice(0, 19)} as ${name}:${tag}`, async () => {
      // No trust policy or credentials of the host's are consulted; --preserve-digests fails rather than
      // convert anything; plain HTTP on loopback needs --dest-tls-verify=false.
      const args = ['--insecure-policy', 'copy', '--quiet', '--preserve-digests', '--dest-no-creds', '--dest-tls-verify=false',
        `oci:${path.resolve(ociDir)}:${tag}`, `docker://${reference}`];
      const result = await execa('skopeo', args, { reject: false, all: true, stdin: 'ignore', timeout: 15 * 60_000 });
      if (result.exitCode !== 0 || result.timedOut) {
        throw new LayercheckError('E_PUSH', `skopeo could not push ${ociDir}:${tag} to ${reference}: ${String(result.all ?? result.message).trim()}\nregistry log:\n${this.logTail(15)}`, { command: `skopeo ${args.join(' ')}`, exitCode: result.exitCode });
      }
      await this.checkManifest(name, tag, local.manifestDigest, local.manifest.mediaType);
      return { name, tag, reference, manifestDigest: local.manifestDigest };
    });
  }

  /**
   * Check that `GET /v2/NAME/manifests/REF` (asking for `mediaType`) serves bytes whose sha256 is
   * `expected`, or throw `E_DIGEST_CHANGED`. distribution 2.8 answers 404 to a manifest request whose
   * Accept header lacks the manifest's media type.
   */
  async checkManifest(name: string, ref: string, expected: string, mediaType: string = MediaType.manifest): Promise<void> {
    const served = await httpRequest(`${this.url}/v2/${name}/manifests/${ref}`, { headers: { accept: mediaType } });
    const servedDigest = served.status === 200 ? sha256Digest(served.body) : `(status ${served.status}: ${served.body.toString('utf8').trim()})`;
    if (servedDigest !== expected) {
      throw new LayercheckError('E_DIGEST_CHANGED', `the registry serves ${name}:${ref} as ${servedDigest}, not the local manifest ${expected}: the image changed on its way in`, {
        expected, served: servedDigest, header: served.headers['docker-content-digest'],
      });
    }
  }

  /** Where the registry stores a blob's bytes. */
  blobFile(digest: string): string {
    const m = /^sha256:([0-9a-f]{64})$/.exec(digest);
    if (!m) throw new LayercheckError('E_BAD_DIGEST', `not a sha256 digest: ${describeValue(digest)}`, { digest });
    const hex = m[1] as string;
    return path.join(this.storageDir, 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
  }

  /**
   * Damage a stored blob in place, keeping its size: the byte at `offset` (default: the middle) is
   * inverted, so the registry serves content that no longer matches its digest.
   */
  async corruptBlob(digest: string, offset?: number): Promise<void> {
    const file = this.blobFile(digest);
    let handle: FileHandle;
    try {
      handle = await open(file, 'r+');
    } catch (error) {
      throw new LayercheckError('E_NO_BLOB', `the registry holds no blob ${digest}`, { digest, file }, { cause: error });
    }
    try {
      const { size } = await handle.stat();
      const at = offset ?? Math.floor(size / 2);
      if (!Number.isSafeInteger(at) || at < 0 || at >= size) throw new LayercheckError('E_BAD_OFFSET', `offset must be within the blob's ${size} bytes, got ${describeValue(offset)}`);
      const byte = Buffer.alloc(1);
      await handle.read(byte, 0, 1, at);
      byte[0] = (byte[0] as number) ^ 0xff;
      await handle.write(byte, 0, 1, at);
    } finally {
      await handle.close();
    }
  }

  /** SIGKILL the registry (by its pid only), wait for it, remove its storage. Never throws. */
  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      this.#kill();
      await this.#process;
      await rm(this.#tempDir, { recursive: true, force: true }).catch(() => {});
      this.#reapable.unregister();
      log(this.name, `docker-registry stopped (pid ${this.pid})`);
    })();
    return this.#stopped;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  #kill(): void {
    if (this.#exited === undefined) killQuietly(this.pid);
  }

  async #waitReady(timeout: Duration): Promise<void> {
    await waitUntil(
      async (lastTry) => {
        if (this.#exited !== undefined) {
          throw new LayercheckError('E_REGISTRY_EXITED', `docker-registry ${this.#exited} before it answered:\n${this.logTail(15)}`, { port: this.port });
        }
        let observation: string;
        try {
          const res = await httpRequest(`${this.url}/v2/`, { timeoutMs: 2_000 });
          if (res.status === 200) return { done: true, value: undefined };
          observation = `GET /v2/ answered ${res.status}`;
        } catch (error) {
          observation = `GET /v2/: ${error instanceof Error ? error.message : String(error)}`;
        }
        return { done: false, observation: lastTry ? `${observation}; registry output:\n${this.logTail(15)}` : observation };
      },
      { what: `docker-registry to answer on ${this.url}`, timeout, interval: '100ms', context: { pid: this.pid } },
    );
  }
}

function registryConfig(port: number, storage: string): string {
  return [
    'version: 0.1',
    'log:',
    '  level: info',
    '  accesslog:',
    '    disabled: false',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${JSON.stringify(storage)}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    '  secret: layercheck-loopback-only',
    '',
  ].join('\n');
}
