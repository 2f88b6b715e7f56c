/**
 * A real SSH server for unit tests: ssh2's `Server` on 127.0.0.1, publickey auth for one client key, exec
 * as `sh -c <command>` on this host (so quoting is proven against a real POSIX shell), and a minimal SFTP
 * subsystem over the local filesystem. Not a product file; only tests import it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, fstatSync, openSync, readSync, statSync, chmodSync, writeSync, type Stats } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import ssh2, { type Connection, type SFTPWrapper, type ServerChannel } from 'ssh2';
import { type KeyPair, generateKeyPair, parseKey } from './keys.js';

const { Server, utils } = ssh2;
const STATUS = utils.sftp.STATUS_CODE;

export interface TestSshd {
  port: number;
  hostKey: KeyPair;
  /** Commands received, in order. */
  commands: string[];
  /** Drop every connection at once, as a crashing guest would. */
  dropConnections(): void;
  close(): Promise<void>;
}

export interface TestSshdOptions {
  clientPublicKey: string;
  username?: string;
  hostKey?: KeyPair;
  /** @default 0 (any free port) */
  port?: number;
}

/** A port that was free a moment ago: for starting a server later on a port a client already targets. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

export async function startTestSshd(options: TestSshdOptions): Promise<TestSshd> {
  const { clientPublicKey, username = 'tester', hostKey = generateKeyPair('test-host'), port = 0 } = options;
  const allowed = parseKey(clientPublicKey);
  const connections = new Set<Connection>();
  const children = new Set<ChildProcess>();
  const commands: string[] = [];

  const server = new Server({ hostKeys: [hostKey.privateKey] }, (connection) => {
    connections.add(connection);
    connection.on('close', () => connections.delete(connection));
    connection.on('error', () => {}); // a client going away mid-handshake is normal here
    connection.on('authentication', (ctx) => {
      const ok =
        ctx.method === 'publickey' &&
        ctx.username === username &&
        ctx.key.algo === allowed.type &&
        ctx.key.data.equals(allowed.getPublicSSH()) &&
        (!ctx.signature || (ctx.blob !== undefined && allowed.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true));
      if (ok) ctx.accept();
      else ctx.reject(['publickey']);
    });
    connection.on('session', (acceptSession) => {
      const session = acceptSession();
      let child: ChildProcess | undefined;
      session.on('exec', (accept, _reject, info) => {
        commands.push(info.command);
        child = runCommand(accept(), info.command, children);
      });
      session.on('signal', (accept, _reject, info) => {
        accept?.();
        child?.kill(`SIG${info.name}` as NodeJS.Signals);
      });
      session.on('sftp', (accept) => serveSftp(accept()));
    });
  });

  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const dropConnections = (): void => {
    for (const connection of connections) connection.end();
  };
  return {
    port: (server.address() as AddressInfo).port,
    hostKey,
    commands,
    dropConnections,
    close: async () => {
      for (const child of children) child.kill('SIGKILL');
      dropConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** sshd's way: the command line goes to the shell's `-c`; output, exit status or signal come back. */
function runCommand(channel: ServerChannel, command: string, children: Set<ChildProcess>): ChildProcess {
  const child = spawn('sh', ['-c', command], { stdio: 'pipe' });
  children.add(child);
  child.stdin.on('error', () => {}); // the command may exit without reading its stdin
  channel.pipe(child.stdin);
  child.stdout.on('data', (chunk: Buffer) => channel.write(chunk));
  child.stderr.on('data', (chunk: Buffer) => channel.stderr.write(chunk));
  // The client closing the channel (its timeout) ends the command, as sshd's SIGHUP would.
  channel.on('close', () => child.kill('SIGKILL'));
  child.on('close', (code, signal) => {
    children.delete(child);
    if (signal) channel.exit(signal.replace(/^SIG/, ''), false, '');
    else channel.exit(code ?? 255);
    channel.end();
  });
  return child;
}

/** Just enough SFTP for readFile/writeFile/chmod: paths are this host's paths. */
function serveSftp(sftp: SFTPWrapper): void {
  const handles = new Map<number, number>();
  let next = 0;
  const fdOf = (handle: Buffer): number | undefined => handles.get(handle.readUInt32BE(0));
  const fail = (reqId: number, error: unknown): void => {
    const code = (error as NodeJS.ErrnoException).code;
    sftp.status(reqId, code === 'ENOENT' ? STATUS.NO_SUCH_FILE : code === 'EACCES' ? STATUS.PERMISSION_DENIED : STATUS.FAILURE);
  };
  const attrs = (st: Stats) => ({ mode: st.mode, uid: st.uid, gid: st.gid, size: st.size, atime: st.atimeMs / 1000, mtime: st.mtimeMs / 1000 });
  const guarded =
    <A extends unknown[]>(fn: (reqId: number, ...args: A) => void) =>
    (reqId: number, ...args: A): void => {
      try {
        fn(reqId, ...args);
      } catch (error) {
        fail(reqId, error);
      }
    };

  sftp.on('OPEN', guarded((reqId, filename: string, flags: number, at: Partial<{ mode: number }>) => {
    const fd = openSync(filename, utils.sftp.flagsToString(flags) ?? 'r', at.mode ?? 0o666);
    const handle = Buffer.alloc(4);
    handle.writeUInt32BE(next);
    handles.set(next++, fd);
    sftp.handle(reqId, handle);
  }));
  sftp.on('WRITE', guarded((reqId, handle: Buffer, offset: number, data: Buffer) => {
    writeSync(fdOf(handle) ?? -1, data, 0, data.length, offset);
    sftp.status(reqId, STATUS.OK);
  }));
  sftp.on('READ', guarded((reqId, handle: Buffer, offset: number, length: number) => {
    const buffer = Buffer.alloc(length);
    const read = readSync(fdOf(handle) ?? -1, buffer, 0, length, offset);
    if (read === 0) sftp.status(reqId, STATUS.EOF);
    else sftp.data(reqId, buffer.subarray(0, read));
  }));
  sftp.on('FSTAT', guarded((reqId, handle: Buffer) => sftp.attrs(reqId, attrs(fstatSync(fdOf(handle) ?? -1)))));
  sftp.on('STAT', guarded((reqId, path: string) => sftp.attrs(reqId, attrs(statSync(path)))));
  sftp.on('SETSTAT', guarded((reqId, path: string, at: Partial<{ mode: number }>) => {
    if (at.mode !== undefined) chmodSync(path, at.mode);
    sftp.status(reqId, STATUS.OK);
  }));
  sftp.on('CLOSE', guarded((reqId, handle: Buffer) => {
    const id = handle.readUInt32BE(0);
    closeSync(handles.get(id) ?? -1);
    handles.delete(id);
    sftp.status(reqId, STATUS.OK);
  }));
}
