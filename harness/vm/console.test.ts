import { performance } from 'node:perf_hooks';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { dir } from 'tmp-promise';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { TimeoutError } from '../util/errors.js';
import { setLogSink } from '../util/log.js';
import { ConsoleCapture } from './console.js';
import { KNOWN_CONSOLE_FAILURES, matchKnownFailure } from './console-patterns.js';
import { LineSplitter, cleanConsoleLine } from './console-text.js';
import { MachineError } from './errors.js';

describe('cleanConsoleLine', () => {
  test.each([
    ['[  OK  ] Started ssh.service', '[  OK  ] Started ssh.service'],
    ['[\x1b[0;32m  OK  \x1b[0m] Reached target \x1b[0;1;39mMulti-User System\x1b[0m.', '[  OK  ] Reached target Multi-User System.'],
    ['login: \r', 'login:'],
    ['[\x1b[0;1;31m  ***\x1b[0m] Job ssh.service/start running\r\x1b[K[\x1b[0;32m  OK  \x1b[0m] Started ssh.service\r', '[  OK  ] Started ssh.service'],
    ['\x1b]0;title\x07text', 'text'],
    ['\x1bcreset', 'reset'],
    ['a\tb\x00c\x07', 'a\tbc'],
    ['\x1b[?25l\x1b[2Khidden cursor', 'hidden cursor'],
  ])('%j -> %j', (raw, clean) => {
    expect(cleanConsoleLine(raw)).toBe(clean);
  });
});

describe('LineSplitter', () => {
  test('splits on newlines and keeps the unterminated rest', () => {
    const splitter = new LineSplitter();
    expect(splitter.push('one\r\ntw')).toEqual(['one\r']);
    expect(splitter.partial).toBe('tw');
    expect(splitter.push('o\n\nthree')).toEqual(['two', '']);
    expect(splitter.end()).toEqual(['three']);
    expect(splitter.end()).toEqual([]);
  });

  test('a UTF-8 character split across chunks arrives whole', () => {
    const splitter = new LineSplitter();
    const bytes = Buffer.from('état ✓\n');
    expect(splitter.push(bytes.subarray(0, 1))).toEqual([]);
    expect(splitter.push(bytes.subarray(1, 7))).toEqual([]);
    expect(splitter.push(bytes.subarray(7))).toEqual(['état ✓']);
  });
});

describe('known console failures', () => {
  test.each([
    ['[    2.1] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)', 'kernel panic'],
    ['You are in emergency mode. After logging in, type "journalctl -xb" to view', 'emergency shell (the root filesystem or a required unit failed)'],
    ['[    9.0] dracut: FATAL: ... Entering emergency mode. Exit the shell to continue.', 'emergency shell (the root filesystem or a required unit failed)'],
    ['[  OK  ] Started emergency.service - Emergency Shell.', 'emergency shell (the root filesystem or a required unit failed)'],
    ['[  301.2] Out of memory: Killed process 812 (ostree) total-vm:1234kB', 'out of memory (raise memoryMiB?)'],
    ['[    3.3] BUG: kernel NULL pointer dereference, address: 0000000000000008', 'kernel bug'],
    ['[   12.0] systemd[1]: Caught <SEGV> from PID 1.', 'systemd (PID 1) crashed'],
    ['[   50.1] ostree[921]: segfault at 0 ip 00007f3b sp 00007ffd error 4 in libc.so.6', 'a process segfaulted'],
    // The OOM killer's first line (mm/oom_kill.c `%s invoked oom-killer: gfp_mask=...`).
    ['[  298.7] rpm-ostree invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, oom_score_adj=0', 'out of memory (raise memoryMiB?)'],
    // Printed by fedora-coreos-config's emergency shell module when an ignition-* unit failed (also quoted in podman machine logs).
    ['Ignition has failed. Please ensure your config is valid. Note that only', 'Ignition failed (check the config: spec 3.x, and what its stages logged)'],
    ['[FAILED] Failed to start ignition-fetch.service - Ignition (fetch).', 'Ignition failed (check the config: spec 3.x, and what its stages logged)'],
    ['[FAILED] Failed to start Ignition (disks).', 'Ignition failed (check the config: spec 3.x, and what its stages logged)'],
    // systemd's transaction.c status line, as quoted in users' boot logs (`[ SKIP ] Ordering cycle found, skipping local-fs-pre.target`).
    ['[ SKIP ] Ordering cycle found, skipping local-fs-pre.target', 'systemd ordering cycle (a unit was skipped to break it)'],
    ['[    4.2] systemd[1]: local-fs.target: Found ordering cycle on keel-mounts.service/start', 'systemd ordering cycle (a unit was skipped to break it)'],
  ])('%s', (line, description) => {
    expect(matchKnownFailure(line)).toEqual({ description, line });
  });

  test.each([
    '[  OK  ] Reached target multi-user.target - Multi-User System.',
    '[    0.0] Linux version 6.1.0-57-amd64',
    'Debian GNU/Linux 12 refos ttyS0',
    '[    0.5] panic=-1 given on the command line',
    '[  OK  ] Finished ignition-fetch.service - Ignition (fetch).',
    '[    5.0] ignition[801]: Ignition finished successfully',
  ])('no false alarm on %j', (line) => {
    expect(matchKnownFailure(line)).toBeUndefined();
  });

  test('every pattern has a description', () => {
    for (const p of KNOWN_CONSOLE_FAILURES) expect(p.description.length).toBeGreaterThan(3);
  });
});

describe('ConsoleCapture', () => {
  let temp: { path: string; cleanup: () => Promise<void> };
  let logged: string[];
  let previousSink: (line: string) => void;
  let captures: ConsoleCapture[];

  beforeEach(async () => {
    temp = await dir({ unsafeCleanup: true });
    logged = [];
    captures = [];
    previousSink = setLogSink((line) => logged.push(line));
  });
  afterEach(async () => {
    setLogSink(previousSink);
    await Promise.all(captures.map((c) => c.close()));
    await temp.cleanup();
  });

  async function capture(options: { echo?: boolean; tailSize?: number } = {}): Promise<{ console: ConsoleCapture; stream: PassThrough; logPath: string }> {
    const logPath = join(temp.path, 'logs', 'vm1.console.log');
    const console = await ConsoleCapture.open({ name: 'vm1', logPath, echo: false, ...options });
    captures.push(console);
    const stream = new PassThrough();
    console.attach(stream);
    return { console, stream, logPath };
  }

  test('writes every byte raw to the log file', async () => {
    const { console, stream, logPath } = await capture();
    const raw = Buffer.from('\x1b[0;32m  OK  \x1b[0m\r\nline two\r\nno newline');
    stream.write(raw.subarray(0, 5));
    stream.write(raw.subarray(5));
    await console.close();
    expect(await readFile(logPath)).toEqual(raw);
  });

  test('tail: cleaned lines, the unterminated one included, oldest first', async () => {
    const { console, stream } = await capture();
    stream.write('\x1b[1mone\x1b[0m\r\ntwo\r\nthr');
    await sleep(10);
    expect(console.tail()).toEqual(['one', 'two', 'thr']);
    expect(console.tail(2)).toEqual(['two', 'thr']);
  });

  test('lines carry their arrival time since the boot started; findLine never waits', async () => {
    const logPath = join(temp.path, 'logs', 'vm-times.console.log');
    const console = await ConsoleCapture.open({ name: 'vm1', logPath, echo: false });
    captures.push(console);
    const stream = new PassThrough();
    const startedAt = performance.now();
    console.attach(stream, undefined, startedAt);
    stream.write('kernel line\n');
    await sleep(50);
    expect(console.findLine(/sshd/)).toBeUndefined();
    const beforeReady = performance.now() - startedAt;
    const waiting = console.waitForLine(/Server listening on \S+ port 22/);
    stream.write('Server listening on 0.0.0.0 port 22.\n');
    const ready = await waiting;
    expect(ready.text).toBe('Server listening on 0.0.0.0 port 22.');
    expect(ready.atMs).toBeGreaterThanOrEqual(beforeReady);
    expect(ready.atMs).toBeLessThanOrEqual(performance.now() - startedAt);
    const kernel = console.findLine(/kernel/);
    expect(kernel?.atMs).toBeLessThan(beforeReady);
    expect(console.findLine(/Server listening/)).toEqual(ready);
  });

  test('the tail is a ring of the last lines', async () => {
    const { console, stream } = await capture({ tailSize: 3 });
    stream.write('1\n2\n3\n4\n5\n');
    await sleep(10);
    expect(console.tail(10)).toEqual(['3', '4', '5']);
  });

  test('quiet unless echo is on; then each line prints as `name # text`', async () => {
    const quiet = await capture();
    quiet.stream.write('hidden\n');
    const loud = await capture({ echo: true });
    loud.stream.write('\x1b[32mshown\x1b[0m\r\n');
    await sleep(10);
    expect(logged).toEqual(['vm1 # shown']);
  });

  test('waitForText finds a line printed before the wait began', async () => {
    const { console, stream } = await capture();
    stream.write('Linux version 6.1.0\nother\n');
    await sleep(10);
    expect(await console.waitForText(/Linux version (\S+)/, { timeout: '1s' })).toBe('Linux version 6.1.0');
  });

  test('waitForText waits for a line still to come, split across chunks', async () => {
    const { console, stream } = await capture();
    const waiting = console.waitForText(/login:/, { timeout: '2s' });
    stream.write('Debian GNU/Linux 12 refos ttyS0\r\n\r\nrefos lo');
    setTimeout(() => stream.write('gin: '), 20);
    expect(await waiting).toBe('refos login:');
  });

  test('a global regex is not tripped by lastIndex', async () => {
    const { console, stream } = await capture();
    stream.write('ready\nready\n');
    const pattern = /ready/g;
    expect(await console.waitForText(pattern, { timeout: '1s' })).toBe('ready');
    expect(await console.waitForText(pattern, { timeout: '1s' })).toBe('ready');
  });

  test('a timeout names the pattern and carries the console tail', async () => {
    const { console, stream } = await capture();
    stream.write('Probing EDD (edd=off to disable)... ok\n');
    const error = await console.waitForText(/Linux version/, { timeout: '100ms' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as Error).message).toMatch(/timed out after 100ms waiting for console text \/Linux version\/ on vm1/);
    expect((error as Error).message).toContain('| Probing EDD (edd=off to disable)... ok');
  });

  test('a known failure ends the wait at once with its description', async () => {
    const { console, stream } = await capture();
    const waiting = console.waitForText(/login:/, { timeout: '10s' }).catch((e: unknown) => e);
    stream.write('[    2.0] Kernel panic - not syncing: VFS: Unable to mount root fs\n');
    const error = await waiting;
    expect(error).toBeInstanceOf(MachineError);
    expect((error as MachineError).code).toBe('E_CONSOLE_FAILURE');
    expect((error as Error).message).toMatch(/^vm1: kernel panic: console printed "\[ {4}2\.0\] Kernel panic/);
    expect(console.failure?.description).toBe('kernel panic');
  });

  test('the console ending (qemu exited) ends the wait', async () => {
    const { console, stream } = await capture();
    const waiting = console.waitForText(/login:/, { timeout: '10s' });
    stream.end('last words\n');
    await expect(waiting).rejects.toThrow(/vm1: the console ended \(qemu exited\) before a line matched \/login:\/[\s\S]*\| last words/);
  });

  test('a line printed just before the console ends still matches', async () => {
    const { console, stream } = await capture();
    const waiting = console.waitForText(/reboot: Restarting system/, { timeout: '10s' });
    stream.end('[   20.1] reboot: Restarting system');
    expect(await waiting).toBe('[   20.1] reboot: Restarting system');
  });

  test('a new boot starts a fresh search, keeps the tail, and separates boots in the log', async () => {
    const { console, stream, logPath } = await capture();
    stream.write('boot one: Kernel panic - not syncing\n');
    stream.end();
    await sleep(10);
    expect(console.failure).toBeDefined();
    const second = new PassThrough();
    console.attach(second, 'boot 2');
    expect(console.failure).toBeUndefined();
    second.write('boot two ready\n');
    await expect(console.waitForText(/boot one/, { timeout: '50ms' })).rejects.toThrow(TimeoutError);
    expect(await console.waitForText(/ready/, { timeout: '1s' })).toBe('boot two ready');
    expect(console.tail()).toEqual(['boot one: Kernel panic - not syncing', 'boot two ready']);
    await console.close();
    expect(await readFile(logPath, 'utf8')).toBe('boot one: Kernel panic - not syncing\n\n===== boot 2 =====\nboot two ready\n');
  });

  test('keeps the first failure of every boot for the scenario\'s console check', async () => {
    const { console, stream } = await capture();
    stream.write('boot one: Kernel panic - not syncing\n[    2.1] BUG: kernel NULL pointer dereference\n');
    stream.end();
    await sleep(10);
    const second = new PassThrough();
    console.attach(second, 'boot 2');
    second.write('[  300.0] ostree invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0\n');
    second.write('[  300.1] Out of memory: Killed process 812 (ostree)\n');
    await sleep(10);
    expect(console.failures.map((f) => f.description)).toEqual(['kernel panic', 'out of memory (raise memoryMiB?)']);
    await console.close();
  });

  test('a wait from the previous boot ends when the next boot attaches', async () => {
    const { console } = await capture();
    const waiting = console.waitForText(/never/, { timeout: '10s' });
    console.attach(new PassThrough());
    await expect(waiting).rejects.toThrow(/console ended/);
  });
});
