import { describe, expect, test } from 'vitest';
import { type ProxyRecord, classifyPath, recordsToCsv } from './records.js';

const HEX = 'ab'.repeat(32);

describe('classifyPath', () => {
  test.each([
    [`/v2/refos/blobs/sha256:${HEX}`, { repository: 'refos', blobDigest: `sha256:${HEX}` }],
    [`/v2/org/refos/blobs/sha256%3A${HEX}?ns=x`, { repository: 'org/refos', blobDigest: `sha256:${HEX}` }],
    ['/v2/refos/manifests/latest', { repository: 'refos', manifestRef: 'latest' }],
    [`/v2/refos/manifests/sha256:${HEX}`, { repository: 'refos', manifestRef: `sha256:${HEX}` }],
    [`/objects/ab/${'cd'.repeat(31)}.filez`, { ostreeObject: `ab${'cd'.repeat(31)}.filez` }],
    [`/repo/objects/ab/${'cd'.repeat(31)}.dirtree`, { ostreeObject: `ab${'cd'.repeat(31)}.dirtree` }],
    [`/objects/ab/${'cd'.repeat(31)}.commit`, { ostreeObject: `ab${'cd'.repeat(31)}.commit` }],
    ['/v2/', {}],
    ['/v2/refos/blobs/uploads/', {}],
    ['/refs/heads/main', {}],
    [`/objects/ab/${'cd'.repeat(30)}.filez`, {}],
  ])('%s', (target, expected) => {
    expect(classifyPath(target)).toEqual(expected);
  });
});

test('recordsToCsv writes a header and quotes what needs quoting', () => {
  const record: ProxyRecord = {
    id: 1, method: 'GET', path: '/a,"b"', status: 200, requestBytes: 0, responseBodyBytes: 10, responseWireBytes: 110,
    durationMs: 1.23456, startedAt: '2026-01-01T00:00:00.000Z', connection: 1, finished: true, faults: ['delay', 'corrupt'],
  };
  const lines = recordsToCsv([record]).trimEnd().split('\n');
  expect(lines[0]).toBe('id,method,path,status,requestBytes,responseBodyBytes,responseWireBytes,durationMs,startedAt,connection,repository,blobDigest,manifestRef,ostreeObject,finished,aborted,faults,error');
  expect(lines[1]).toBe('1,GET,"/a,""b""",200,0,10,110,1.235,2026-01-01T00:00:00.000Z,1,,,,,true,,delay corrupt,');
});
