import { createServer } from 'node:net';
import { describe, expect, test } from 'vitest';
import { findQuietPort, pickFreePort, somethingAnswers } from './port.js';

describe('ports', () => {
  test('a picked port is free, and nothing answers on it', async () => {
    const port = await pickFreePort();
    expect(port).toBeGreaterThan(0);
    expect(await somethingAnswers(port)).toBe(false);
    expect(await somethingAnswers(await findQuietPort())).toBe(false);
  });

  test('a listener answers', async () => {
    const server = createServer((socket) => socket.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    try {
      expect(await somethingAnswers(typeof address === 'object' && address ? address.port : 0)).toBe(true);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
