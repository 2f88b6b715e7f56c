import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { LayercheckError, type LogSink, TimeoutError, setLogSink } from '../util/index.js';
import { AssertionFailure, CommandFailedError, CommandSucceededError, SftpError, SshTransportError } from './errors.js';
import { generateKeyPair } from './keys.js';
import { sh } from './quote.js';
import { SshSession } from './session.js';
import { type TestSshd, startTestSshd } from './test-sshd.js';

const clientKey = generateKeyPair('client');
let server: TestSshd;
let session: SshSession;
let dir: string;
let previousSink: LogSink;

async function connect(): Promise<SshSession> {
  return SshSession.connectUntil({
    name: 'refos-1',
    host: '127.0.0.1',
    port: server.port,
    username: 'tester',
    privateKey: clientKey.privateKey,
    hostKey: server.hostKey.publicKey,
  });
}

beforeAll(async () => {
  previousSink = setLogSink(() => {});
  server = await startTestSshd({ clientPublicKey: clientKey.publicKey });
  session = await connect();
  dir = mkdtempSync(join(tmpdir(), 'ssh-session-'));
});

afterAll(async () => {
  await session.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
  setLogSink(previousSink);
});

beforeEach(() => {
  session.describeFailure = undefined;
});

describe('exec', () => {
  test('reports exit code, stdout and stderr without judging', async () => {
    const result = await session.exec(sh('echo out; echo err >&2; exit 3'));
    expect(result).toMatchObject({ command: 'echo out; echo err >&2; exit 3', exitCode: 3, stdout: 'out\n', stderr: 'err\n' });
    expect(result.signal).toBeUndefined();
    expect(result.durationMs).toBeGreaterThan(0);
  });

  test('passes every argument through the remote shell verbatim', async () => {
    const args = ['two words', "it's", '"q"', '$HOME', '$(id)', '`id`', 'a\nb', '', 'é✓ 日本', '*', 'x=1', '~'];
    const result = await session.exec(['printf', '%s\\n', ...args]);
    expect(result.stdout).toBe(args.map((a) => `${a}\n`).join(''));
    expect(result.command).toBe(server.commands.at(-1));
  });

  test('feeds stdin, and closes it when none is given', async () => {
    expect((await session.exec(['cat'], { stdin: 'line 1\nline 2\n' })).stdout).toBe('line 1\nline 2\n');
    expect((await session.exec(['cat'])).stdout).toBe('');
  });

  test('reports a command killed by a signal', async () => {
    // `eval` so the login shell itself is killed: an inner `sh -c` dying would only make it exit 137.
    const result = await session.exec(['eval', 'kill -KILL $$']);
    expect(result).toMatchObject({ exitCode: null, signal: 'SIGKILL' });
  });

  test('times out naming machine and command, kills it, and the session stays usable', async () => {
    session.describeFailure = async () => 'console tail: nothing';
    const error = await session.exec(sh('echo started; sleep 5'), { timeout: '300ms' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as Error).message).toMatch(/refos-1: `echo started; sleep 5` to finish; last observation: .*started/s);
    expect((error as Error).message).toContain('console tail: nothing');
    expect(await session.succeed(['echo', 'still here'])).toBe('still here\n');
  });
});

describe('succeed and fail', () => {
  test('succeed returns stdout', async () => {
    expect(await session.succeed(['echo', 'hello'])).toBe('hello\n');
  });

  test('succeed throws an assertion failure with the exit code, stderr and the owner\'s description', async () => {
    session.describeFailure = async () => 'refos-1 # [ 12.3] ostree-prepare-root: ...';
    const error = await session.succeed(sh('echo "error: no such ref" >&2; exit 1')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandFailedError);
    expect(error).toBeInstanceOf(AssertionFailure);
    expect(error).toBeInstanceOf(LayercheckError);
    const failure = error as CommandFailedError;
    expect(failure.code).toBe('E_COMMAND_FAILED');
    expect(failure.message).toBe(
      'refos-1: command `echo "error: no such ref" >&2; exit 1` exited 1: error: no such ref\nrefos-1 # [ 12.3] ostree-prepare-root: ...',
    );
    expect(failure.result).toMatchObject({ exitCode: 1, stderr: 'error: no such ref\n' });
    expect(failure.context).toMatchObject({ machine: 'refos-1', result: failure.result });
  });

  test('a describer that throws does not hide the failure', async () => {
    session.describeFailure = async () => {
      throw new Error('console gone');
    };
    await expect(session.succeed(['false'])).rejects.toThrow(/exited 1: \(no output\)\n\(describing the failure failed too: console gone\)/);
  });

  test('fail returns the result of a failing command and throws when it succeeds', async () => {
    expect(await session.fail(['test', '-e', join(dir, 'absent')])).toMatchObject({ exitCode: 1 });
    const error = await session.fail(['echo', 'oops']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandSucceededError);
    expect(error).toBeInstanceOf(AssertionFailure);
    expect(error).toMatchObject({ code: 'E_COMMAND_SUCCEEDED', message: 'refos-1: command `echo oops` was expected to fail but exited 0; stdout: oops' });
  });
});

describe('waitUntilSucceeds', () => {
  test('returns the stdout of the first success (here the third try)', async () => {
    const counter = join(dir, 'tries');
    // Each try counts itself; the third sees the condition hold. No timing involved.
    const script = sh(`n=$(($(cat ${counter} 2>/dev/null || echo 0) + 1)); echo $n > ${counter}; [ $n -ge 3 ] && echo ready-$n`);
    expect(await session.waitUntilSucceeds(script, { timeout: '10s', interval: '10ms' })).toBe('ready-3\n');
    expect(readFileSync(counter, 'utf8')).toBe('3\n');
  });

  test('waits for a file created later', async () => {
    const flag = join(dir, 'flag');
    setTimeout(() => writeFileSync(flag, ''), 200);
    await session.waitUntilSucceeds(['test', '-e', flag], { timeout: '10s', interval: '50ms' });
    expect(existsSync(flag)).toBe(true);
  });

  test('times out with the last try\'s exit code and stderr', async () => {
    session.describeFailure = async () => 'console: login:';
    const error = await session
      .waitUntilSucceeds(sh('echo "unit not active yet" >&2; exit 4'), { timeout: '400ms', interval: '50ms' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as Error).message).toMatch(
      /^timed out after 400ms waiting for refos-1: `echo "unit not active yet" >&2; exit 4` to succeed; last observation: exited 4: unit not active yet\nconsole: login:$/,
    );
  });
});

describe('files over SFTP', () => {
  test('putFile writes content and mode; getFile reads it back', async () => {
    const path = join(dir, 'authorized_keys');
    await session.putFile(path, 'ssh-ed25519 AAAA… me\n', 0o600);
    expect(readFileSync(path, 'utf8')).toBe('ssh-ed25519 AAAA… me\n');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect((await session.getFile(path)).toString('utf8')).toBe('ssh-ed25519 AAAA… me\n');
  });

  test('putFile replaces a longer file entirely, binary safe', async () => {
    const path = join(dir, 'blob');
    writeFileSync(path, 'a much longer previous content');
    const bytes = Buffer.from([0, 1, 2, 255, 10]);
    await session.putFile(path, bytes);
    expect((await session.getFile(path)).equals(bytes)).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o644);
  });

  test('getFile of a missing file is an SftpError naming the path', async () => {
    const path = join(dir, 'missing');
    const error = await session.getFile(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SftpError);
    expect(error).toMatchObject({ code: 'E_SFTP' });
    expect((error as Error).message).toContain(`refos-1: cannot read ${path} over SFTP`);
  });
});

describe('a broken connection', () => {
  test('is a transport error, not a command result; close and dispose stay quiet', async () => {
    const doomed = await connect();
    const running = doomed.exec(['sleep', '5']);
    setTimeout(() => server.dropConnections(), 100);
    const error = await running.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SshTransportError);
    expect(error).toMatchObject({ code: 'E_SSH_TRANSPORT' });
    expect((error as Error).message).toMatch(/^refos-1: SSH connection failed while running `sleep 5`/);
    expect(doomed.connected).toBe(false);
    await expect(doomed.exec(['true'])).rejects.toBeInstanceOf(SshTransportError);
    await doomed.close();
    await doomed[Symbol.asyncDispose]();
    // The shared session was dropped too: reconnect it for whatever runs after.
    session = await connect();
  });

  test('await using closes the session', async () => {
    let escaped: SshSession;
    {
      await using scoped = await connect();
      escaped = scoped;
      expect(await scoped.succeed(['echo', 'in scope'])).toBe('in scope\n');
    }
    expect(escaped.connected).toBe(false);
    await expect(escaped.exec(['true'])).rejects.toThrow(/the session was closed/);
  });
});
