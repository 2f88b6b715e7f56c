import { type Server, type Socket, createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { dir } from 'tmp-promise';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { QmpError } from './errors.js';
import { QmpClient } from './qmp.js';

const GREETING = { QMP: { version: { qemu: { micro: 22, minor: 2, major: 7 }, package: 'Debian' }, capabilities: ['oob'] } };

type Handler = (command: { execute: string; arguments?: Record<string, unknown>; id?: unknown }, reply: (message: object) => void, socket: Socket) => void;

/** A QMP server speaking just enough protocol: greeting, then one JSON object per line. */
async function fakeQmp(path: string, handler: Handler, options: { greeting?: object | string } = {}): Promise<{ server: Server; received: string[]; sockets: Socket[] }> {
  const received: string[] = [];
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    const greeting = options.greeting ?? GREETING;
    socket.write(`${typeof greeting === 'string' ? greeting : JSON.stringify(greeting)}\r\n`);
    let buffer = '';
    socket.on('data', (chunk) => {
      buffer += chunk.toString();
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        received.push(line);
        const command = JSON.parse(line) as Parameters<Handler>[0];
        handler(command, (message) => socket.write(`${JSON.stringify({ ...message, id: command.id })}\r\n`), socket);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return { server, received, sockets };
}

const standard: Handler = (command, reply, socket) => {
  switch (command.execute) {
    case 'qmp_capabilities': return reply({ return: {} });
    case 'query-status': return reply({ return: { status: 'running', running: true } });
    case 'system_powerdown':
      reply({ return: {} });
      socket.write(`${JSON.stringify({ timestamp: { seconds: 1, microseconds: 2 }, event: 'POWERDOWN' })}\r\n`);
      return;
    case 'quit':
      reply({ return: {} });
      socket.end();
      return;
    case 'silent': return;
    default: return reply({ error: { class: 'CommandNotFound', desc: `The command ${command.execute} has not been found` } });
  }
};

describe('QmpClient', () => {
  let temp: { path: string; cleanup: () => Promise<void> };
  let servers: Server[];
  let clients: QmpClient[];
  beforeEach(async () => {
    temp = await dir({ unsafeCleanup: true });
    servers = [];
    clients = [];
  });
  afterEach(async () => {
    for (const client of clients) client.close();
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    await temp.cleanup();
  });

  async function serve(handler: Handler, options?: { greeting?: object | string }): Promise<{ path: string; received: string[]; sockets: Socket[] }> {
    const path = join(temp.path, 'qmp.sock');
    const fake = await fakeQmp(path, handler, options);
    servers.push(fake.server);
    return { path, received: fake.received, sockets: fake.sockets };
  }

  async function connect(path: string, options?: Parameters<typeof QmpClient.connect>[1]): Promise<QmpClient> {
    const client = await QmpClient.connect(path, options);
    clients.push(client);
    return client;
  }

  test('negotiates capabilities, then runs commands and returns their `return`', async () => {
    const { path, received } = await serve(standard);
    const client = await connect(path);
    expect(await client.greeting).toEqual(GREETING);
    expect(await client.execute('query-status')).toEqual({ status: 'running', running: true });
    expect(received.map((line) => JSON.parse(line) as object)).toEqual([
      { execute: 'qmp_capabilities', id: 1 },
      { execute: 'query-status', id: 2 },
    ]);
  });

  test('passes arguments', async () => {
    const { path, received } = await serve(standard);
    const client = await connect(path);
    await client.execute('nonexistent', { device: 'disk0' }).catch(() => undefined);
    expect(JSON.parse(received[1]!)).toEqual({ execute: 'nonexistent', arguments: { device: 'disk0' }, id: 2 });
  });

  test("a QMP error becomes a QmpError with qemu's description", async () => {
    const { path } = await serve(standard);
    const client = await connect(path);
    const error = await client.execute('bogus').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QmpError);
    expect((error as QmpError).message).toBe('bogus: The command bogus has not been found');
    expect((error as QmpError).context).toMatchObject({ command: 'bogus', errorClass: 'CommandNotFound' });
  });

  test('answers are matched by id, even out of order', async () => {
    const held: Array<() => void> = [];
    const { path } = await serve((command, reply) => {
      if (command.execute === 'qmp_capabilities') return reply({ return: {} });
      held.push(() => reply({ return: command.execute }));
      if (held.length === 2) held.reverse().forEach((send) => send());
    });
    const client = await connect(path);
    expect(await Promise.all([client.execute('first'), client.execute('second')])).toEqual(['first', 'second']);
  });

  test('collects events and waits for them', async () => {
    const { path } = await serve(standard);
    const client = await connect(path);
    const powerdown = client.waitForEvent('POWERDOWN', { timeout: '2s' });
    await client.execute('system_powerdown');
    expect((await powerdown).timestamp).toEqual({ seconds: 1, microseconds: 2 });
    expect(client.events.map((e) => e.event)).toEqual(['POWERDOWN']);
    expect((await client.waitForEvent('POWERDOWN', { past: true })).event).toBe('POWERDOWN');
  });

  test('events arriving in the same chunk as an answer are not lost', async () => {
    const { path } = await serve((command, reply, socket) => {
      if (command.execute === 'qmp_capabilities') {
        socket.write(`${JSON.stringify({ return: {}, id: command.id })}\r\n${JSON.stringify({ event: 'RESET', data: { guest: true }, timestamp: { seconds: 0, microseconds: 0 } })}\r\n`);
      }
    });
    const client = await connect(path);
    await sleep(50);
    expect(client.events).toEqual([{ event: 'RESET', data: { guest: true }, timestamp: { seconds: 0, microseconds: 0 } }]);
  });

  test('retries until the socket appears', async () => {
    const path = join(temp.path, 'qmp.sock');
    const connecting = connect(path, { timeout: '5s' });
    await sleep(300);
    servers.push((await fakeQmp(path, standard)).server);
    expect((await connecting).closed).toBe(false);
  });

  test('gives up at once when the process is gone', async () => {
    const path = join(temp.path, 'never.sock');
    const start = Date.now();
    await expect(QmpClient.connect(path, { timeout: '10s', isAlive: () => 'qemu exited with code 1: bad option' }))
      .rejects.toThrow(/cannot connect to QMP at .*never\.sock: qemu exited with code 1: bad option/);
    expect(Date.now() - start).toBeLessThan(1_000);
  });

  test('times out when the socket never appears', async () => {
    await expect(QmpClient.connect(join(temp.path, 'never.sock'), { timeout: '300ms' })).rejects.toThrow(/timed out after 300ms waiting for the QMP socket/);
  });

  test('a server that is not QMP is rejected', async () => {
    const { path } = await serve(standard, { greeting: { hello: 'world' } });
    await expect(QmpClient.connect(path, { timeout: '5s' })).rejects.toThrow(/qmp\.sock: expected a QMP greeting, got \{"hello":"world"\}/);
  });

  test('no greeting within the timeout', async () => {
    const path = join(temp.path, 'mute.sock');
    const server = createServer(() => undefined);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(path, resolve));
    await expect(QmpClient.connect(path, { timeout: '300ms' })).rejects.toThrow(/no QMP greeting within 300ms/);
  });

  test('a command without an answer times out', async () => {
    const { path } = await serve(standard);
    const client = await connect(path);
    await expect(client.execute('silent', undefined, { timeout: '200ms' })).rejects.toThrow('silent: no answer within 200ms');
  });

  test('pending and later commands fail when the connection closes', async () => {
    const { path, sockets } = await serve(standard);
    const client = await connect(path);
    const pending = client.execute('silent');
    sockets[0]!.destroy();
    await expect(pending).rejects.toThrow(/^silent: QMP connection (closed|error: read ECONNRESET)$/);
    expect(client.closed).toBe(true);
    await expect(client.execute('query-status')).rejects.toThrow(QmpError);
  });

  test('quit: the answer arrives before the connection closes', async () => {
    const { path } = await serve(standard);
    const client = await connect(path);
    expect(await client.execute('quit')).toEqual({});
  });
});
