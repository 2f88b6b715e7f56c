import { readFileSync } from 'node:fs';
import Ajv2019 from 'ajv/dist/2019.js';
import { describe, expect, it } from 'vitest';
import { generateKeyPair } from '../ssh/index.js';
import { IGNITION_VERSION, dataUrl, ignitionConfig } from './ignition.js';

type Schema = Record<string, unknown>;

/**
 * The official Ignition 3.4.0 schema (schema/README.md), made strict: Ignition only warns about a key it
 * does not know, so a misspelt `sshAuthorizedKey` would boot a machine nobody can log into. Every object
 * schema here also forbids keys its properties (and those of its `allOf` parts) do not name. The schema
 * is draft-04 but uses no keyword whose meaning changed since (no schema `id`, no boolean
 * `exclusiveMinimum`), so ajv's 2019-09 dialect reads it as it is meant.
 */
function strictIgnitionSchema(): Schema {
  const schema = JSON.parse(readFileSync(new URL('./schema/ignition-3.4.0.json', import.meta.url), 'utf8')) as Schema;
  delete schema.$schema;
  const allOfParts = new Set<Schema>();
  const visit = (node: unknown): void => {
    if (typeof node !== 'object' || node === null) return;
    if (Array.isArray(node)) return node.forEach(visit);
    const s = node as Schema;
    if (Array.isArray(s.allOf)) for (const part of s.allOf as Schema[]) allOfParts.add(typeof part.$ref === 'string' ? resolve(schema, part.$ref) : part);
    for (const child of Object.values(s)) visit(child);
  };
  visit(schema);
  const seal = (node: unknown): void => {
    if (typeof node !== 'object' || node === null) return;
    if (Array.isArray(node)) return node.forEach(seal);
    const s = node as Schema;
    if ((s.properties !== undefined || s.allOf !== undefined) && !allOfParts.has(s)) s.unevaluatedProperties = false;
    for (const child of Object.values(s)) seal(child);
  };
  // `node` is reached only through `allOf`: the file/directory/link schemas around it are sealed instead.
  seal(schema);
  return schema;
}

/** A local `#/a/b` reference. */
function resolve(root: Schema, ref: string): Schema {
  return ref.replace(/^#\//, '').split('/').reduce<Schema>((node, key) => node[key] as Schema, root);
}

const ajv = new Ajv2019.default({ allErrors: true, strict: false });
const validate = ajv.compile(strictIgnitionSchema());

function errorsOf(config: unknown): string[] {
  return validate(config) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
}

const hostKey = generateKeyPair('layercheck host key');
const clientKey = generateKeyPair('layercheck client');

describe('ignitionConfig', () => {
  const config = ignitionConfig({ user: 'core', authorizedKeys: [clientKey.publicKey], hostKey, insecureRegistries: ['10.0.2.101:5000'], maskUnits: ['zincati.service'] });

  it('is a valid Ignition 3.4.0 config', () => {
    expect(config.ignition.version).toBe(IGNITION_VERSION);
    expect(errorsOf(config)).toEqual([]);
    expect(errorsOf(JSON.parse(JSON.stringify(config)))).toEqual([]);
  });

  it('authorizes the run key for core and installs the pinned host key', () => {
    expect(config.passwd.users).toEqual([{ name: 'core', sshAuthorizedKeys: [clientKey.publicKey] }]);
    const file = (path: string) => config.storage.files.find((f) => f.path === path);
    const decode = (source: string | undefined) => Buffer.from((source ?? '').replace(/^data:;base64,/, ''), 'base64').toString('utf8');
    expect(file('/etc/ssh/ssh_host_ed25519_key')?.mode).toBe(0o600);
    expect(decode(file('/etc/ssh/ssh_host_ed25519_key')?.contents.source)).toBe(hostKey.privateKey.endsWith('\n') ? hostKey.privateKey : `${hostKey.privateKey}\n`);
    expect(decode(file('/etc/ssh/ssh_host_ed25519_key.pub')?.contents.source).trim()).toBe(hostKey.publicKey.trim());
    expect(decode(file('/etc/containers/registries.conf.d/50-layercheck.conf')?.contents.source)).toBe('[[registry]]\nlocation = "10.0.2.101:5000"\ninsecure = true\n');
    expect(config.systemd).toEqual({ units: [{ name: 'zincati.service', mask: true }] });
  });

  it('writes no registries drop-in when there is no registry', () => {
    const plain = ignitionConfig({ user: 'core', authorizedKeys: [clientKey.publicKey], hostKey });
    expect(plain.storage.files.map((f) => f.path)).toEqual(['/etc/ssh/ssh_host_ed25519_key', '/etc/ssh/ssh_host_ed25519_key.pub']);
    expect(plain.systemd).toBeUndefined();
    expect(errorsOf(plain)).toEqual([]);
  });

  it('the strict schema catches what Ignition would silently ignore or refuse', () => {
    expect(errorsOf({ ignition: {} })).toEqual(["/ignition must have required property 'version'"]);
    expect(errorsOf({ ...config, passwd: { users: [{ name: 'core', sshAuthorizedKey: ['x'] }] } })).toContain('/passwd/users/0 must NOT have unevaluated properties');
    expect(errorsOf({ ...config, storage: { files: [{ path: '/x', mode: '0600' }] } })).toContain('/storage/files/0/mode must be integer,null');
    expect(errorsOf({ ...config, storage: { files: [{ path: '/x', contents: { source: 'data:,' }, owner: 'root' }] } })).toContain('/storage/files/0 must NOT have unevaluated properties');
  });

  it('data URLs carry any bytes', () => {
    expect(dataUrl('a,b é\n')).toBe(`data:;base64,${Buffer.from('a,b é\n').toString('base64')}`);
  });
});
