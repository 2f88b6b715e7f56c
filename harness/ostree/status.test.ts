import { describe, it, expect } from 'vitest';
import { OutputParseError } from './errors.js';
import { parseStatus } from './status.js';
import { sample } from './testdata/samples.js';

describe('parseStatus', () => {
  it('reads a staged update over a booted plain-ostree deployment', () => {
    expect(parseStatus(sample('status-zincati-staged.json'))).toEqual([
      {
        checksum: '967b7b8d624e6d10ff51c2e81ef198fae966c567ac2e9b479771c693d0987949',
        booted: false,
        staged: true,
        origin: 'fedora:fedora/x86_64/coreos/stable',
        version: '31.20200517.3.0',
      },
      {
        checksum: '01f074cc6cd88d8d2b43f821da692f2367c101eb4377802cb35092bde0ef02f7',
        booted: true,
        staged: false, // absent from the JSON
        origin: 'fedora:fedora/x86_64/coreos/stable',
        version: '31.20200505.3.0',
      },
    ]);
  });

  it('reads a deployment booted from a container image', () => {
    expect(parseStatus(sample('status-zincati-oci.json'))).toEqual([
      {
        checksum: '36ff46d732a070a1bf10f7157f764e316f99a836dcdbf56702798e5042411fe9',
        booted: true,
        staged: false,
        containerImageReference: 'ostree-image-signed:docker://quay.io/fedora/fedora-coreos:stable',
        containerImageDigest: 'sha256:ca99893c80a7b84dd84d4143bd27538207c2f38ab6647a58d9c8caa251f9a087',
        version: '43.20251024.3.0',
      },
    ]);
  });

  it('reads an RHCOS container deployment without a version', () => {
    const [deployment, ...rest] = parseStatus(sample('status-insights-rhcos.json'));
    expect(rest).toEqual([]);
    expect(deployment).toEqual({
      checksum: '40948b845a13349cb0d57400eebdcfdf72bb8521636a1f067fb22d92b0b73b41',
      booted: true,
      staged: false,
      containerImageReference:
        'ostree-unverified-registry:quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:90780b08939d913d9cfc5565eecdd12055dd57301b2109985e149830a92ed6b1',
      containerImageDigest: 'sha256:90780b08939d913d9cfc5565eecdd12055dd57301b2109985e149830a92ed6b1',
    });
    expect(deployment).not.toHaveProperty('origin');
  });

  it('reads plain-ostree deployments of a workstation and of RHEL for Edge (no `staged` keys)', () => {
    expect(parseStatus(sample('status-rpm-ostree-workstation.json'))).toEqual([
      { checksum: '63335a77f9853618ba1a5f139c5805e82176a2a040ef5e34d7402e12263af5bb', booted: true, staged: false, origin: 'fedora/33/x86_64/silverblue', version: '33.21' },
      { checksum: '775d54e89bc74731ec27db04f12510c0269c8cbab3ad5e39e0a4d693231ef072', booted: false, staged: false, origin: 'fedora/33/x86_64/silverblue', version: '33.17' },
    ]);
    expect(parseStatus(sample('status-insights-rhel-edge.json'))).toEqual([
      { checksum: '7c25253d45a30b05222fba1365fce35263987262c490ad547e66d8541f05293a', booted: true, staged: false, origin: 'edge:rhel/8/x86_64/falsetest' },
      { checksum: 'e2707b5fc7d4b168d7746678bc228b734dbf6f9f64b8ad97f5c87f7b9e7dfea7', booted: false, staged: false, origin: 'edge:rhel/8/x86_64/falsetest' },
    ]);
  });

  it('refuses truncated and invalid JSON, quoting it', () => {
    expect(() => parseStatus(sample('status-rpm-ostree-5196-truncated.json'))).toThrow(OutputParseError);
    expect(() => parseStatus(sample('status-rpm-ostree-5196-truncated.json'))).toThrow(/not JSON: .*deployments/s);
    expect(() => parseStatus(sample('status-insights-edge-invalid.json'))).toThrow(OutputParseError);
    expect(() => parseStatus('')).toThrow(/\(empty\)/);
    expect(() => parseStatus('error: This system was not booted via libostree')).toThrow(OutputParseError);
  });

  it('refuses JSON that is not a usable status', () => {
    const booted = { checksum: 'a'.repeat(64), booted: true };
    for (const text of [
      'null',
      '[]',
      '{"deployments": {}}',
      '{"deployments": []}',
      JSON.stringify({ deployments: [{ booted: true }] }),
      JSON.stringify({ deployments: [{ checksum: 'abc', booted: true }] }),
      JSON.stringify({ deployments: [{ ...booted, staged: 'no' }] }),
      JSON.stringify({ deployments: [{ ...booted, version: 33 }] }),
      JSON.stringify({ deployments: [booted, { ...booted, checksum: 'b'.repeat(64) }] }),
    ]) {
      expect(() => parseStatus(text), text).toThrow(OutputParseError);
    }
  });
});
