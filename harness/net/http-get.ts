import http, { type IncomingHttpHeaders } from 'node:http';
import { LayercheckError } from '../util/errors.js';

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface HttpRequestOptions {
  /** @default 'GET' */
  method?: string;
  headers?: Record<string, string>;
  /** Give up (and reject) after this long. @default 10_000 */
  timeoutMs?: number;
}

/**
 * One plain HTTP request on a connection of its own (no pooling, so nothing lingers afterwards);
 * resolves with the whole body whatever the status.
 */
export function httpRequest(url: string, options: HttpRequestOptions = {}): Promise<HttpResponse> {
  const { method = 'GET', headers = {}, timeoutMs = 10_000 } = options;
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.once('error', reject);
    });
    req.once('timeout', () => req.destroy(new LayercheckError('E_HTTP_TIMEOUT', `${method} ${url}: no answer within ${timeoutMs}ms`)));
    req.once('error', reject);
    req.end();
  });
}
