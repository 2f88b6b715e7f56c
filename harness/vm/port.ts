import { createConnection, createServer } from 'node:net';
import { SetupError } from '../util/errors.js';

/**
 * A loopback port nothing listens on: the kernel picks a free one, and a connect must then be refused.
 * A stale VM holding a port would otherwise answer the SSH probe meant for ours (FACTS.md).
 */
export async function findQuietPort(attempts = 5): Promise<number> {
  const answered: number[] = [];
  for (let i = 0; i < attempts; i++) {
    const port = await pickFreePort();
    if (!(await somethingAnswers(port))) return port;
    answered.push(port);
  }
  throw new SetupError(`no quiet loopback port found: something answered on ${answered.join(', ')}`, { answered });
}

/** Listen on 127.0.0.1:0, read the port the kernel chose, close. */
export function pickFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new SetupError('could not read a free loopback port'))));
    });
  });
}

/** True when a TCP connect to 127.0.0.1:port succeeds (or hangs rather than being refused). */
export function somethingAnswers(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const done = (answer: boolean): void => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(timeoutMs, () => done(true));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
