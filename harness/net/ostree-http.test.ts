import { mkdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { execa } from 'execa';
import { dir } from 'tmp-promise';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { findCommand } from '../fixtures/host-packages.js';
import { httpRequest } from './http-get.js';
import { StaticHttpServer } from './ostree-http.js';
import { AccountingProxy } from './proxy.js';

/** The status line of a request sent exactly as written (clients would normalize `..` away). */
function rawStatus(port: number, target: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
    let text = '';
    socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
    socket.once('end', () => resolve(text.split('\r\n', 1)[0] ?? ''));
    socket.once('error', reject);
  });
}

describe('StaticHttpServer', () => {
  let temp: { path: string; cleanup: () => Promise<void> };
  let root: string;
  let server: StaticHttpServer;

  beforeAll(async () => {
    temp = await dir({ unsafeCleanup: true });
    root = path.join(temp.path, 'repo');
    await mkdir(path.join(root, 'objects', 'ab'), { recursive: true });
    await writeFile(path.join(root, 'config'), '[core]\nrepo_version=1\nmode=archive-z2\n');
    await writeFile(path.join(root, 'objects', 'ab', 'cd.filez'), Buffer.alloc(70_000, 7));
    await writeFile(path.join(root, 'empty'), '');
    await writeFile(path.join(temp.path, 'secret'), 'outside');
    await symlink(path.join(temp.path, 'secret'), path.join(root, 'escape'));
    server = await StaticHttpServer.start({ root });
  });

  afterAll(async () => {
    await server.close();
    await temp.cleanup();
  });

  test('serves files with Content-Length; HEAD without a body', async () => {
    const got = await httpRequest(`${server.url}/objects/ab/cd.filez`);
    expect(got.status).toBe(200);
    expect(got.headers['content-length']).toBe('70000');
    expect(got.body.equals(Buffer.alloc(70_000, 7))).toBe(true);
    const head = await httpRequest(`${server.url}/config`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String((await stat(path.join(root, 'config'))).size));
    expect(head.body.length).toBe(0);
    const empty = await httpRequest(`${server.url}/empty`);
    expect([empty.status, empty.headers['content-length'], empty.body.length]).toEqual([200, '0', 0]);
  });

  test('404 for what is missing and for directories, 405 for other methods', async () => {
    const missing = await httpRequest(`${server.url}/summary`);
    expect([missing.status, missing.body.length]).toEqual([404, 0]);
    expect((await httpRequest(`${server.url}/objects`)).status).toBe(404);
    expect((await httpRequest(`${server.url}/`)).status).toBe(404);
    const post = await httpRequest(`${server.url}/config`, { method: 'POST' });
    expect([post.status, post.headers.allow]).toEqual([405, 'GET, HEAD']);
  });

  test('nothing outside the root: `..` in any spelling, and symlinks leading out', async () => {
    for (const target of ['/../secret', '/objects/../../secret', '/%2e%2e/secret', '/objects/..%2f..%2fsecret', '/escape']) {
      expect(await rawStatus(server.port, target), target).toBe('HTTP/1.1 403 Forbidden');
    }
  });

  test.skipIf(!findCommand('ostree'))('a real ostree pull through the accounting proxy is counted object by object', async () => {
    const tree = path.join(temp.path, 'tree');
    await mkdir(path.join(tree, 'usr', 'bin'), { recursive: true });
    await writeFile(path.join(tree, 'usr', 'bin', 'tool'), Buffer.alloc(50_000, 1));
    await writeFile(path.join(tree, 'usr', 'bin', 'other'), 'other\n');
    const repo = path.join(temp.path, 'served');
    await execa('ostree', ['init', `--repo=${repo}`, '--mode=archive']);
    await execa('ostree', ['commit', `--repo=${repo}`, '--branch=test/ref', `--tree=dir=${tree}`, '--owner-uid=0', '--owner-gid=0', '--timestamp=2024-01-01T00:00:00Z']);

    await using origin = await StaticHttpServer.start({ root: repo });
    await using proxy = await AccountingProxy.start({ upstream: origin.url, name: 'ostree-proxy' });
    const client = path.join(temp.path, 'client');
    await execa('ostree', ['init', `--repo=${client}`, '--mode=archive']);
    await execa('ostree', ['remote', 'add', `--repo=${client}`, '--no-gpg-verify', 'origin', proxy.url]);
    await execa('ostree', ['pull', `--repo=${client}`, 'origin', 'test/ref'], { timeout: 60_000 });
    await proxy.idle();

    const objects = proxy.records().filter((r) => r.ostreeObject !== undefined && r.status === 200);
    // commit, root dirtree/dirmeta, usr, usr/bin, and the two files at least
    expect(objects.length).toBeGreaterThanOrEqual(6);
    expect(objects.filter((r) => r.ostreeObject?.endsWith('.filez'))).toHaveLength(2);
    for (const r of objects) {
      const name = r.ostreeObject as string;
      const onDisk = await stat(path.join(repo, 'objects', name.slice(0, 2), name.slice(2)));
      expect(r.responseBodyBytes, name).toBe(onDisk.size);
    }
    const commit = (await readFile(path.join(repo, 'refs', 'heads', 'test', 'ref'), 'utf8')).trim();
    expect(objects.map((r) => r.ostreeObject)).toContain(`${commit}.commit`);
    // Errors have empty bodies: the bytes sent are exactly the files fetched.
    let served = 0;
    for (const r of proxy.records()) if (r.status === 200) served += (await stat(path.join(repo, r.path))).size;
    expect(proxy.totalBytes()).toBe(served);
    expect(proxy.records().some((r) => r.status === 404)).toBe(true);
  }, 60_000);
});
