import ssh2, { type Client as ClientType, type ParsedKey, type ServerHostKeyAlgorithm } from 'ssh2';
import type { SshTarget } from './types.js';

const { Client } = ssh2;

/** One login attempt's outcome. Connection errors are values: during boot they are expected. */
export type ConnectOutcome =
  | { ok: true; client: ClientType }
  | { ok: false; error: Error }
  | { ok: false; hostKeyMismatch: Buffer /* the key blob the server presented */ };

/** The host key algorithms that can present the pinned key, so a guest with several keys shows that one. */
function hostKeyAlgorithms(pinned: ParsedKey): ServerHostKeyAlgorithm[] {
  return pinned.type === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [pinned.type];
}

/**
 * Try once to connect and log in, within `readyTimeoutMs`. Resolves, never rejects, except when `signal`
 * aborts. The presented host key is compared blob-for-blob with the pinned one before authenticating.
 */
export function connectOnce(
  target: SshTarget,
  pinned: ParsedKey,
  readyTimeoutMs: number,
  signal?: AbortSignal,
): Promise<ConnectOutcome> {
  return new Promise((resolve, reject) => {
    signal?.throwIfAborted();
    const client = new Client();
    const pinnedBlob = pinned.getPublicSSH();
    let presented: Buffer | undefined;
    let settled = false;

    const finish = (outcome: ConnectOutcome | { aborted: unknown }): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      if ('aborted' in outcome || !outcome.ok) client.destroy();
      if ('aborted' in outcome) reject(outcome.aborted);
      else resolve(outcome);
    };
    const onAbort = (): void => finish({ aborted: signal?.reason });
    signal?.addEventListener('abort', onAbort, { once: true });

    // Errors keep coming after we settle (e.g. the socket closing under a destroyed client); without a
    // listener an 'error' event would crash the process.
    client.on('error', (error: Error) => {
      finish(presented ? { ok: false, hostKeyMismatch: presented } : { ok: false, error });
    });
    // sshd may accept TCP and then drop it while the guest is still booting; ssh2 reports most of these as
    // errors, but a bare close can come first.
    client.on('close', () => finish({ ok: false, error: new Error('connection closed before login completed') }));
    client.on('ready', () => finish({ ok: true, client }));

    try {
      client.connect({
        host: target.host,
        port: target.port,
        username: target.username,
        privateKey: target.privateKey,
        readyTimeout: readyTimeoutMs,
        algorithms: { serverHostKey: hostKeyAlgorithms(pinned) },
        hostVerifier: (key: Buffer): boolean => {
          if (key.equals(pinnedBlob)) return true;
          presented = key;
          return false;
        },
        // Notice a hung or rebooted guest within about a minute instead of waiting on a dead socket.
        keepaliveInterval: 15_000,
        keepaliveCountMax: 4,
      });
    } catch (error) {
      // ssh2 throws synchronously for a malformed private key: not something retrying will fix.
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      reject(error);
    }
  });
}
