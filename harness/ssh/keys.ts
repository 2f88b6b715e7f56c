import { createHash } from 'node:crypto';
import ssh2, { type ParsedKey } from 'ssh2';
import { LayercheckError, describeValue } from '../util/index.js';

// ssh2 is CommonJS and Node cannot see its named exports from ESM: take them from the default export.
const { utils } = ssh2;

export interface KeyPair {
  /** OpenSSH PEM, for the guest's /etc/ssh/ssh_host_ed25519_key or the client. */
  privateKey: string;
  /** One line, `ssh-ed25519 AAAA... comment`, for pinning or authorized_keys. */
  publicKey: string;
}

/** A fresh, unencrypted ed25519 key pair. */
export function generateKeyPair(comment: string): KeyPair {
  const { private: privateKey, public: publicKey } = utils.generateKeyPairSync('ed25519', { comment });
  return { privateKey, publicKey };
}

/** Parse a public key line (or a private key); a malformed key is a setup mistake, reported with its start. */
export function parseKey(key: string): ParsedKey {
  const parsed = utils.parseKey(key);
  // parseKey returns an Error, or an array for files holding several keys; we pin exactly one.
  if (parsed instanceof Error || Array.isArray(parsed)) {
    const reason = parsed instanceof Error ? parsed.message : 'several keys where one was expected';
    throw new LayercheckError('E_BAD_KEY', `not an SSH key (${reason}), got ${describeValue(`${key.slice(0, 40)}...`)}`);
  }
  return parsed;
}

/** OpenSSH's fingerprint of a public key blob: `SHA256:` and unpadded base64, as `ssh-keygen -l` prints it. */
export function fingerprintOfBlob(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The fingerprint of a public key line such as `ssh-ed25519 AAAA... comment`, for messages. */
export function hostKeyFingerprint(publicKeyLine: string): string {
  return fingerprintOfBlob(parseKey(publicKeyLine).getPublicSSH());
}
