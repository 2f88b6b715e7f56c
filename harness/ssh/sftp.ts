import type { Client, SFTPWrapper } from 'ssh2';

/** Open an SFTP channel for one job, and close it afterwards whatever happens. */
export function withSftp<T>(client: Client, job: (sftp: SFTPWrapper) => Promise<T>): Promise<T> {
  return new Promise<SFTPWrapper>((resolve, reject) => {
    client.sftp((error, sftp) => (error ? reject(error) : resolve(sftp)));
  }).then(async (sftp) => {
    try {
      return await job(sftp);
    } finally {
      sftp.end();
    }
  });
}

/** Write a whole (small) file and set its mode: the open's mode applies only when creating, minus umask. */
export async function writeFile(sftp: SFTPWrapper, path: string, content: string | Buffer, mode: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    sftp.writeFile(path, content, { mode }, (error) => (error ? reject(error) : resolve()));
  });
  await new Promise<void>((resolve, reject) => {
    sftp.chmod(path, mode, (error) => (error ? reject(error) : resolve()));
  });
}

export function readFile(sftp: SFTPWrapper, path: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    sftp.readFile(path, (error, data) => (error ? reject(error) : resolve(data)));
  });
}
