import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { dir } from 'tmp-promise';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { waitUntil } from '../util/wait.js';
import { exitCodeForSignal, reapAll, register, registered } from './registry.js';
import { isRunning } from '../util/ancestors.js';

/** Runs no more: gone, or a zombie nobody waits for. */
const isStopped = async (pid: number): Promise<boolean> => !isRunning(pid);


async function expectGone(pid: number): Promise<void> {
  await waitUntil(async () => ((await isStopped(pid)) ? { done: true, value: undefined } : { done: false, observation: `pid ${pid} still runs` }), {
    what: `pid ${pid} to die`, timeout: '5s', interval: '50ms',
  });
}

/** Killed by the signal, or exited with the shell's code for it: either way the shell reports 128 + n. */
function endedBy(result: { signal?: string; exitCode?: number }, signal: NodeJS.Signals): boolean {
  return result.signal === signal || result.exitCode === exitCodeForSignal(signal);
}

const HANDLED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'exit'] as const;

describe('registry', () => {
  let temp: { path: string; cleanup: () => Promise<void> };
  beforeEach(async () => {
    temp = await dir({ unsafeCleanup: true });
  });
  afterEach(async () => {
    await temp.cleanup();
  });

  test('reapAll SIGKILLs every registered pid and removes its temp dir', async () => {
    const child = execa('sleep', ['60'], { reject: false });
    const vmDir = join(temp.path, 'vm');
    await mkdir(vmDir);
    await writeFile(join(vmDir, 'overlay.qcow2'), 'x');
    const { entry } = register('sleeper');
    entry.pid = child.pid;
    entry.tempDir = vmDir;
    expect(registered()).toContain(entry);

    reapAll();

    const result = await child;
    expect(result.signal).toBe('SIGKILL');
    expect(existsSync(vmDir)).toBe(false);
    expect(registered()).toEqual([]);
  });

  test('unregister forgets the entry; reaping a pid that is gone is harmless', async () => {
    const child = execa('true');
    await child;
    const kept = register('gone');
    kept.entry.pid = child.pid;
    const forgotten = register('forgotten');
    forgotten.unregister();
    expect(registered()).toEqual([kept.entry]);
    expect(() => reapAll()).not.toThrow();
  });

  test('signal handlers are armed only while something is registered', () => {
    const before = HANDLED.map((s) => process.listenerCount(s));
    const first = register('one');
    const second = register('two');
    expect(HANDLED.map((s) => process.listenerCount(s))).toEqual(before.map((n) => n + 1));
    first.unregister();
    expect(HANDLED.map((s) => process.listenerCount(s))).toEqual(before.map((n) => n + 1));
    second.unregister();
    expect(HANDLED.map((s) => process.listenerCount(s))).toEqual(before);
  });

  test('exit codes for signals follow the shell convention', () => {
    expect(exitCodeForSignal('SIGINT')).toBe(130);
    expect(exitCodeForSignal('SIGTERM')).toBe(143);
  });

  describe('in a process of its own', () => {
    const registryUrl = new URL('./registry.ts', import.meta.url).href;
    const execaUrl = import.meta.resolve('execa');
    const workDir = fileURLToPath(new URL('../..', import.meta.url));

    /** A node process that registers a long-running child and a temp dir, prints the pid, and waits. */
    async function startOwner(script: string, ipc = false): Promise<{ owner: ReturnType<typeof execa>; pid: number; vmDir: string }> {
      const vmDir = join(temp.path, 'vm');
      await mkdir(vmDir);
      const path = join(temp.path, 'owner.mts');
      await writeFile(path, `
        import { execa } from ${JSON.stringify(execaUrl)};
        import { register } from ${JSON.stringify(registryUrl)};
        const child = execa('setpriv', ['--pdeathsig', 'KILL', '--', 'sleep', '60'], { reject: false });
        const { entry } = register('sleeper');
        entry.pid = child.pid;
        entry.tempDir = ${JSON.stringify(vmDir)};
        console.log(child.pid);
        ${script}
      `);
      const owner = execa('node', ['--import', 'tsx', path], { cwd: workDir, reject: false, cleanup: true, ipc });
      const pid = await new Promise<number>((resolve, reject) => {
        owner.stdout!.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
        owner.once('exit', () => reject(new Error('the owner exited before printing its child pid')));
      });
      return { owner, pid, vmDir };
    }

    test.each(['SIGINT', 'SIGTERM'] as const)('%s kills the registered child, removes its temp dir and ends the process by that signal', async (signal) => {
      const { owner, pid, vmDir } = await startOwner('setInterval(() => {}, 1000);');
      expect(await isStopped(pid)).toBe(false);
      owner.kill(signal);
      const result = await owner;
      expect(endedBy(result, signal)).toBe(true);
      await expectGone(pid);
      expect(existsSync(vmDir)).toBe(false);
    }, 20_000);

    test('a normal exit kills the registered child too', async () => {
      const { owner, pid, vmDir } = await startOwner('setTimeout(() => process.exit(0), 100);');
      expect((await owner).exitCode).toBe(0);
      await expectGone(pid);
      expect(existsSync(vmDir)).toBe(false);
    }, 20_000);

    test('an IPC child (a vitest fork) whose parent goes away reaps its machines and ends', async () => {
      const { owner, pid, vmDir } = await startOwner('setInterval(() => {}, 1000);', true);
      owner.disconnect();
      expect(endedBy(await owner, 'SIGTERM')).toBe(true);
      await expectGone(pid);
      expect(existsSync(vmDir)).toBe(false);
    }, 20_000);

    test('SIGKILL leaves no handler to run, and setpriv --pdeathsig kills the child anyway', async () => {
      const { owner, pid } = await startOwner('setInterval(() => {}, 1000);');
      owner.kill('SIGKILL');
      await owner;
      await expectGone(pid);
    }, 20_000);
  });
});
