import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { firstWellFormed, generateKeyPair, hostKeyFingerprint, parseKey } from './keys.js';

function hasSshKeygen(): boolean {
  try {
    execFileSync('ssh-keygen', ['-?'], { stdio: 'ignore' });
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

describe('generateKeyPair', () => {
  test('gives an OpenSSH private key and a one-line ed25519 public key with the comment', () => {
    const { privateKey, publicKey } = generateKeyPair('refos-1 host key');
    expect(privateKey).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----\n/);
    expect(publicKey).toMatch(/^ssh-ed25519 AAAA[A-Za-z0-9+/=]+ refos-1 host key$/);
    expect(parseKey(privateKey).getPublicSSH().equals(parseKey(publicKey).getPublicSSH())).toBe(true);
  });

  test('never gives a key ssh2 cannot read back (one in 256 did: mscdex/ssh2#1513)', () => {
    for (let i = 0; i < 2000; i += 1) {
      const { privateKey, publicKey } = generateKeyPair('k');
      expect(parseKey(publicKey).getPublicSSH().length).toBe(51);
      expect(parseKey(privateKey).getPublicSSH().length).toBe(51);
    }
  });

  test('draws again after a malformed key, and says so when it never gets one', () => {
    const good = generateKeyPair('k');
    // The 31-byte public key ssh2 writes when the key's first byte is zero.
    const blob = Buffer.from(good.publicKey.split(' ')[1] ?? '', 'base64');
    const short = Buffer.concat([blob.subarray(0, 15), Buffer.from([0, 0, 0, 31]), blob.subarray(20)]);
    const bad = { privateKey: good.privateKey, publicKey: `ssh-ed25519 ${short.toString('base64')} k` };
    const draws = [bad, good];
    expect(firstWellFormed(() => draws.shift() ?? bad)).toBe(good);
    expect(() => firstWellFormed(() => bad, 3)).toThrow(/well-formed key in 3 attempts/);
  });

  test('gives an ECDSA P-256 pair when asked', () => {
    const { privateKey, publicKey } = generateKeyPair('layercheck client', 'ecdsa-p256');
    expect(publicKey).toMatch(/^ecdsa-sha2-nistp256 AAAA[A-Za-z0-9+/=]+ layercheck client$/);
    expect(parseKey(privateKey).getPublicSSH().equals(parseKey(publicKey).getPublicSSH())).toBe(true);
  });

  test('gives a different key each time', () => {
    expect(generateKeyPair('a').publicKey).not.toBe(generateKeyPair('a').publicKey);
  });
});

describe('hostKeyFingerprint', () => {
  test('is SHA256 and unpadded base64', () => {
    expect(hostKeyFingerprint(generateKeyPair('x').publicKey)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });

  test.skipIf(!hasSshKeygen())('matches ssh-keygen -l', () => {
    const { publicKey } = generateKeyPair('x');
    const file = join(mkdtempSync(join(tmpdir(), 'keys-')), 'key.pub');
    writeFileSync(file, `${publicKey}\n`);
    const printed = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', file], { encoding: 'utf8' });
    expect(printed.split(' ')[1]).toBe(hostKeyFingerprint(publicKey));
  });

  test('names a malformed key as a setup mistake', () => {
    expect(() => hostKeyFingerprint('ssh-ed25519 not-base64')).toThrow(expect.objectContaining({ code: 'E_BAD_KEY' }));
  });
});
