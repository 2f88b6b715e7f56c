/**
 * Scenarios without a VM that use the report API as real scenarios do: nested steps, refs snapshots,
 * updater output, the proxy's request table, metrics. FAKE_REBASE_BYTES sets the gated metric;
 * FAKE_E2E_FAIL=1 adds a failing scenario (a command failed on a machine, with its console tail).
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect } from 'vitest';
import { attachFile, attachText } from '../../allure.js';
import { attachCommandOutput, attachProxyRequests, attachRefs, scenario } from '../../../testing.js';
import { step } from '../../../util/log.js';

const LAYER = 'ostree/container/blob/sha256_3A_2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae';
const DERIVED = 'ostree/container/blob/sha256_3A_fcde2b2edba56bf408601fb721fe9b5c338d10ee429ea04fae5511b68fbf8fb9';
const refsBefore = `ostree/1/1/0\n${LAYER}\nrefos:refos/x86_64/stable\n`;
const refsAfter = `ostree/1/1/0\nostree/1/1/1\n${LAYER}\n${DERIVED}\nostree/container/image/docker_3A__2F__2F_10_2E_0_2E_2_2E_101_3A_5000/refos_3A_derived\n`;
const proxy = {
  name: 'registry',
  toCsv: () => 'id,method,path,status,responseBodyBytes\n1,GET,/v2/refos/manifests/derived,200,1234\n2,GET,/v2/refos/blobs/sha256:fcde2b2e,200,5242880\n',
};

describe('rebase (fake)', () => {
  scenario('derived image: downloads only the added layer', async ({ metric }) => {
    const machine = 'rebase-fake';
    await step('host', 'build the reference disk', async () => {
      await step('host', 'import 12 layers as commits under their layer refs', async () => undefined);
    });
    await step(machine, 'booting (boot 1, tcg)', async () => undefined);
    await attachRefs(`${machine}, before rebase`, refsBefore);
    await step(machine, 'rebase to the derived image', async () => {
      await attachCommandOutput('updater: rebase', {
        command: 'refos-update rebase ostree-unverified-registry:10.0.2.101:5000/refos:derived',
        exitCode: 0, durationMs: 5230,
        stdout: 'layers already present: 12; layers needed: 1 (5.2 MB)\nStaging deployment... done\n', stderr: '',
      });
    });
    await attachProxyRequests('rebase', proxy);
    await step(machine, 'rebooting', async () => undefined);
    await attachRefs(`${machine}, after reboot`, refsAfter);
    const consoleLog = path.join(os.tmpdir(), `${machine}.console.log`);
    writeFileSync(consoleLog, '===== layercheck: rebase-fake boot 1 =====\n[    0.000000] Linux version 6.1.0-57-amd64\nWelcome to Debian GNU/Linux 12 (bookworm)!\n');
    await attachFile(`${machine}: serial console`, consoleLog);
    metric('rebase.derived.bytes', Number(process.env.FAKE_REBASE_BYTES ?? 5_243_904), 'bytes');
    metric('boot.to_ssh.ms', 21034, 'ms');
    expect(refsAfter).toContain(DERIVED);
  });

  scenario.runIf(process.env.FAKE_E2E_FAIL === '1')('plain ostree update: layer refs pruned', async () => {
    const machine = 'upgrade-fake';
    await step(machine, 'booting (boot 1, tcg)', async () => undefined);
    await attachText(`${machine}: last 60 console lines`, '[  OK  ] Reached target multi-user.target\nDebian GNU/Linux 12 upgrade-fake ttyS0\n');
    await step(machine, 'upgrade to refos:refos/x86_64/stable', async () => {
      throw new Error(`${machine}: command \`refos-update upgrade\` exited with code 1: error: pulling: Server returned HTTP 404\n  | [  OK  ] Reached target multi-user.target`);
    });
  });
});
