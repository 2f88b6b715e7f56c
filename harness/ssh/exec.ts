import type { Client, ClientChannel } from 'ssh2';

/** How one command's channel ended. Built into results or errors by the session, which knows the names. */
export type ChannelOutcome = { stdout: string; stderr: string } & (
  | { kind: 'exited'; exitCode: number | null; signal?: string }
  | { kind: 'timeout' }
  | { kind: 'lost'; error: Error }
);

/**
 * Run `commandLine` on a new channel of `client`, collecting stdout and stderr. Never rejects: a dropped
 * connection is `lost`, the deadline is `timeout` (the command is sent SIGKILL, which sshd may ignore,
 * and its channel closed).
 */
export function runOnChannel(
  client: Client,
  commandLine: string,
  timeoutMs: number,
  stdin?: string | Buffer,
): Promise<ChannelOutcome> {
  return new Promise((resolve) => {
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    // Decode once at the end so a multi-byte character split across chunks survives.
    const output = () => ({ stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') });
    let channel: ClientChannel | undefined;
    let exit: { exitCode: number | null; signal?: string } = { exitCode: null };
    let settled = false;

    const finish = (outcome: ChannelOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.off('error', onLost);
      client.off('close', onClosed);
      resolve(outcome);
    };
    // The client emits 'close' before it closes its channels, so a dropped connection is seen as one here,
    // not mistaken for a command that ended without an exit status.
    const onLost = (error: Error): void => finish({ kind: 'lost', error, ...output() });
    const onClosed = (): void => onLost(new Error('connection closed'));
    client.on('error', onLost);
    client.on('close', onClosed);

    const timer = setTimeout(() => {
      if (channel) {
        channel.signal('KILL');
        channel.close();
      }
      finish({ kind: 'timeout', ...output() });
    }, timeoutMs);

    try {
      client.exec(commandLine, (error, opened) => {
        if (error) return onLost(error);
        channel = opened;
        if (settled) return void opened.close(); // timed out before the channel opened
        opened.on('data', (chunk: Buffer) => stdout.push(chunk));
        opened.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
        opened.on('exit', (code: number | null, signal?: string) => {
          exit = code === null && signal ? { exitCode: null, signal } : { exitCode: code };
        });
        opened.on('close', () => finish({ kind: 'exited', ...exit, ...output() }));
        // Send stdin, or EOF at once so a command that reads stdin does not wait forever.
        if (stdin === undefined) opened.end();
        else opened.end(stdin);
      });
    } catch (error) {
      // ssh2 throws synchronously when the client is no longer connected.
      onLost(error instanceof Error ? error : new Error(String(error)));
    }
  });
}
