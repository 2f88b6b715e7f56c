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

/**
 * The key types the harness makes: ed25519 for host keys (what disk builders install as
 * ssh_host_ed25519_key), ECDSA P-256 for the client key, because the guest checks its signature at every
 * login and under TCG OpenSSH's portable Ed25519 code costs the guest more than OpenSSL's P-256 assembly.
 */
export type KeyType = 'ed25519' | 'ecdsa-p256';

/** A fresh, unencrypted key pair. */
export function generateKeyPair(comment: string, type: KeyType = 'ed25519'): KeyPair {
  return firstWellFormed(() => {
    const { private: privateKey, public: publicKey } = type === 'ed25519'
      ? utils.generateKeyPairSync('ed25519', { comment })
      : utils.generateKeyPairSync('ecdsa', { bits: 256, comment });
    return { privateKey, publicKey };
  });
}

// ssh2 1.17 strips every leading zero byte of an ed25519 public key, so about one key in 256 comes out
// 31 bytes long and neither ssh2 nor sshd will read it (mscdex/ssh2#1513). Drawing again is the fix:
// keys are random, and eight bad draws in a row happen once in 2^64.
export function firstWellFormed(draw: () => KeyPair, attempts = 8): KeyPair {
  let reason = '';
  for (let attempt = 0; attempt < attempts; attempt += 1) {
    const pair = draw();
    try {
      if (parseKey(pair.publicKey).getPublicSSH().equals(parseKey(pair.privateKey).getPublicSSH())) return pair;
      reason = 'public and private keys differ';
    } catch (error) {
      reason = error instanceof Error ? error.message : String(error);
    }
  }
  throw new LayercheckError('E_BAD_KEY', `could not generate a well-formed key in ${attempts} attempts (last: ${reason})`);
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
