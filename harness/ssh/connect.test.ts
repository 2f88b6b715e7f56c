import { type Server as NetServer, type Socket, connect, createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { type LogSink, TimeoutError, setLogSink } from '../util/index.js';
import { HostKeyMismatchError, MachineDownError } from './errors.js';
import { generateKeyPair, hostKeyFingerprint } from './keys.js';
import { SshSession } from './session.js';
import { type TestSshd, freePort, startTestSshd } from './test-sshd.js';
import type { SshTarget } from './types.js';

const clientKey = generateKeyPair('client');
const hostKey = generateKeyPair('host');
const cleanups: (() => Promise<void>)[] = [];
let previousSink: LogSink;

beforeAll(() => {
  previousSink = setLogSink(() => {});
});
afterAll(() => {
  setLogSink(previousSink);
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function target(port: number, pinned = hostKey.publicKey): SshTarget {
  return { name: 'refos-1', host: '127.0.0.1', port, username: 'tester', privateKey: clientKey.privateKey, hostKey: pinned };
}

async function sshd(port = 0): Promise<TestSshd> {
  const server = await startTestSshd({ clientPublicKey: clientKey.publicKey, hostKey, port });
  cleanups.push(() => server.close());
  return server;
}

function track(session: SshSession): SshSession {
  cleanups.push(() => session.close());
  return session;
}

describe('SshSession.connectUntil', () => {
  test('logs in and runs a command', async () => {
    const server = await sshd();
    const session = track(await SshSession.connectUntil(target(server.port)));
    expect(session.connected).toBe(true);
    expect(await session.succeed(['echo', 'hi'])).toBe('hi\n');
  });

  test('keeps trying while sshd is not listening yet', async () => {
    const port = await freePort();
    let attempts = 0;
    const connecting = SshSession.connectUntil(target(port), {
      timeout: '10s',
      interval: '50ms',
      isAlive: () => void attempts++,
    });
    await sleep(400);
    await sshd(port);
    const session = track(await connecting);
    expect(attempts).toBeGreaterThan(1);
    expect(await session.succeed(['true'])).toBe('');
  });

  test('times out with the last connection error and the owner\'s description', async () => {
    const port = await freePort();
    const error = await SshSession.connectUntil(target(port), {
      timeout: '300ms',
      interval: '50ms',
      describeFailure: async () => 'console: [ OK ] Reached target basic.target',
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).message).toMatch(/refos-1: SSH login as tester on 127\.0\.0\.1:\d+.*ECONNREFUSED/s);
    expect((error as TimeoutError).message).toContain('Reached target basic.target');
  });

  test('retries a server that accepts TCP and drops it, as a booting guest\'s port forward does', async () => {
    let accepted = 0;
    const dropper: NetServer = createServer((socket) => {
      accepted++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => dropper.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => dropper.close(() => resolve())));
    const { port } = dropper.address() as { port: number };
    const error = await SshSession.connectUntil(target(port), { timeout: '500ms', interval: '50ms' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(accepted).toBeGreaterThan(1);
    expect((error as Error).message).toMatch(/last observation: .*(before handshake|ECONNRESET|closed)/);
  });

  test('starts over when a connection is accepted but sshd never identifies itself (a guest without its address yet)', async () => {
    const server = await sshd();
    const { port, held } = await forward(server.port, { holdFirst: true });
    const session = track(await SshSession.connectUntil(target(port), { timeout: '60s' }));
    expect(held).toHaveLength(1);
    expect(await session.succeed(['true'])).toBe('');
  });

  test('makes no connection before the owner announces the guest ready, then logs in with one', async () => {
    const server = await sshd();
    const { port, accepted } = await forward(server.port, { holdFirst: false });
    let announce = (): void => {};
    const guestReady = new Promise<void>((resolve) => (announce = resolve));
    const connecting = SshSession.connectUntil(target(port), { timeout: '60s', guestReady });
    await sleep(300);
    expect(accepted()).toBe(0);
    announce();
    const session = track(await connecting);
    expect(accepted()).toBe(1);
    expect(await session.succeed(['true'])).toBe('');
  }, 4_000);

  test('the announcement cuts the pause short: the login follows it, not the next interval', async () => {
    const server = await sshd();
    let announce = (): void => {};
    const guestReady = new Promise<void>((resolve) => (announce = resolve));
    // With a 5-minute interval only the announcement can start the attempt within the test's 4 s.
    const connecting = SshSession.connectUntil(target(server.port), { timeout: '10m', interval: '5m', guestReady });
    await sleep(100);
    announce();
    const session = track(await connecting);
    expect(await session.succeed(['true'])).toBe('');
  }, 4_000);

  test('attempts anyway after the grace when the owner never announces the guest ready', async () => {
    const server = await sshd();
    const start = Date.now();
    const session = track(await SshSession.connectUntil(target(server.port), { timeout: '60s', guestReady: new Promise(() => {}), readyGrace: '300ms' }));
    expect(Date.now() - start).toBeGreaterThanOrEqual(300);
    expect(await session.succeed(['true'])).toBe('');
  }, 4_000);

  test('drops a silent attempt as soon as the owner announces the guest ready', async () => {
    const server = await sshd();
    const { port, held } = await forward(server.port, { holdFirst: true });
    let announce = (): void => {};
    const guestReady = new Promise<void>((resolve) => (announce = resolve));
    const connecting = SshSession.connectUntil(target(port), { timeout: '60s', guestReady, readyGrace: '0s' });
    await sleep(300);
    expect(held).toHaveLength(1); // still waiting on the silent one: before the announcement, attempts are patient
    announce();
    const session = track(await connecting);
    expect(held).toHaveLength(1);
    expect(await session.succeed(['true'])).toBe('');
  }, 4_000);

  test('refuses a different host key at once, with both fingerprints', async () => {
    const server = await sshd();
    const pinned = generateKeyPair('stale').publicKey;
    const start = Date.now();
    const error = await SshSession.connectUntil(target(server.port, pinned), { timeout: '30s' }).catch((e: unknown) => e);
    expect(Date.now() - start).toBeLessThan(5_000);
    expect(error).toBeInstanceOf(HostKeyMismatchError);
    const { code, message } = error as HostKeyMismatchError;
    expect(code).toBe('E_HOST_KEY');
    expect(message).toContain('refos-1');
    expect(message).toContain(hostKeyFingerprint(pinned));
    expect(message).toContain(hostKeyFingerprint(hostKey.publicKey));
    expect(message).toMatch(/rebuild/);
    expect(server.commands).toEqual([]);
  });

  test('stops at once when the owner says the machine is gone', async () => {
    const port = await freePort();
    let calls = 0;
    const start = Date.now();
    const error = await SshSession.connectUntil(target(port), {
      timeout: '30s',
      interval: '20ms',
      isAlive: () => (++calls >= 3 ? 'qemu exited with code 1' : undefined),
    }).catch((e: unknown) => e);
    expect(Date.now() - start).toBeLessThan(5_000);
    expect(error).toBeInstanceOf(MachineDownError);
    expect(error).toMatchObject({ code: 'E_MACHINE_DOWN', message: 'refos-1: stopped waiting for SSH: qemu exited with code 1' });
  });

  test('stops when aborted', async () => {
    const port = await freePort();
    const error = await SshSession.connectUntil(target(port), { timeout: '30s', interval: '20ms', signal: AbortSignal.timeout(200) }).catch(
      (e: unknown) => e,
    );
    // An abort, whether caught mid-attempt or mid-pause, not our deadline's TimeoutError.
    expect((error as Error).name).toMatch(/^(AbortError|TimeoutError)$/);
    expect(error).not.toBeInstanceOf(TimeoutError);
  });
});

/**
 * A port forward to sshd that counts the connections it accepts. With `holdFirst` its first connection is
 * accepted and left silent, as qemu's forward does while the guest cannot answer yet; later connections
 * reach sshd. Closed with the test's cleanups.
 */
async function forward(sshdPort: number, { holdFirst }: { holdFirst: boolean }): Promise<{ port: number; held: Socket[]; accepted: () => number }> {
  const held: Socket[] = [];
  let accepted = 0;
  const server: NetServer = createServer((socket) => {
    accepted += 1;
    if (holdFirst && held.length === 0) return void held.push(socket);
    const upstream = connect(sshdPort, '127.0.0.1');
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => {
    for (const socket of held) socket.destroy();
    server.close(() => resolve());
  }));
  return { port: (server.address() as { port: number }).port, held, accepted: () => accepted };
}
