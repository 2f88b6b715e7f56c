import path from 'node:path';
import { clientKey, clientKeyFile } from '../fixtures/reference.js';
import type { GuestMachine, UpdateDriver } from '../guest/index.js';
import { type BootOptions, machineOptions } from '../machines.js';
import { type Command, type ExecResult, quoteArg, shellCommand, toCommandLine } from '../ssh/index.js';
import { parseAccelOverride } from '../vm/accel-decision.js';
import { QEMU_BINARY } from '../vm/qemu-process.js';
import { type MachineOptions, machineQemuArgs, overlayArgs } from '../vm/index.js';
import type { BootSpec } from '../vm/types.js';
import { OSTREE_UPDATE_REFSPEC, guestImageReference } from '../worlds.js';
import { REFERENCE_OS } from '../disk/reference-os.js';
import type { GuestStep, MachinePlan, ScenarioPlan } from './plan.js';
import type { Target } from './types.js';

/** SSH port shown in the dry run (a real run picks a free one per boot). */
export const DRY_RUN_SSH_PORT = 2222;
/** Host ports shown for the content servers' accounting proxies (a real run picks free ones). */
const DRY_RUN_FORWARD_PORTS = { registry: 49152, ostree: 49153 } as const;
/** A stand-in for the booted commit's checksum in printed commands. */
const BOOTED_COMMIT = '<booted-commit>';

/**
 * Print, per scenario, what a run on `target` would do, booting nothing: the disk (or why the target
 * skips the scenario), the Ignition config, the overlay and qemu command lines as runnable shell lines,
 * and every guest command the target's driver runs for the scenario's steps. `dir` is where the printed
 * commands put each machine's overlay and QMP socket.
 */
export async function dryRun(target: Target, plans: readonly ScenarioPlan[], dir: string, write: (line: string) => void): Promise<void> {
  const key = await clientKey();
  write(`# layercheck dry run: ${plans.length} scenarios on ${target.description}`);
  write(`# nothing is booted; the commands below are what the run would execute`);
  for (const plan of plans) {
    write('');
    write(`## ${plan.file} > ${plan.title}`);
    const reason = [...(plan.needs ?? []), ...plan.machines.map((m) => ({ disk: m.disk ?? {} }))].map((n) => target.whyNot(n)).find((r) => r !== undefined);
    if (reason !== undefined) {
      write(`skipped on this target: ${reason}`);
      continue;
    }
    for (const machine of plan.machines) {
      const disk = await target.disk(machine.disk);
      const options = machineOptions(disk, machine.name, key, bootOptions(machine));
      const machineDir = path.join(dir, machine.name);
      write(`### machine ${machine.name}: ${disk.builder} disk ${disk.qcow2}${machine.disk ? ` (${JSON.stringify(machine.disk)})` : ''}`);
      for (const line of disk.plan ?? []) write(line);
      if (disk.provisioning?.ignition) {
        const file = disk.provisioning.fwCfg[0]?.file ?? '';
        write(`# Ignition config (${file}), passed as -fw_cfg name=opt/com.coreos/config:`);
        for (const line of JSON.stringify(disk.provisioning.ignition, null, 2).split('\n')) write(`#   ${line}`);
      }
      for (const line of bootLines(options, disk.boot, machineDir)) write(line);
      write(`# SSH: ${options.ssh.username}@127.0.0.1 -p ${DRY_RUN_SSH_PORT}, client key in ${clientKeyFile()}, host key pinned: ${disk.hostKey.trim()}`);
      write(`# guest commands, in order (driver: ${target.driver(recorder(machine.name, () => undefined, options)).name}):`);
      for (const command of await guestCommands(target, machine, options)) write(`guest$ ${command}`);
    }
  }
}

function bootOptions(machine: MachinePlan): BootOptions {
  const guestfwds = (machine.forwards ?? []).map((f) => ({ ...(f === 'registry' ? REFERENCE_OS.registry : REFERENCE_OS.ostreeServer), hostPort: DRY_RUN_FORWARD_PORTS[f] }));
  return guestfwds.length > 0 ? { guestfwds } : {};
}

/** mkdir, overlay, per-machine UEFI variables (as Machine copies them), and the qemu line of the first boot. */
function bootLines(options: MachineOptions, boot: BootSpec, dir: string): string[] {
  const accel = parseAccelOverride(process.env.E2E_ACCEL) ?? 'tcg';
  const overlayPath = path.join(dir, 'overlay.qcow2');
  const lines = [shellCommand(['mkdir', '-p', dir]), shellCommand(['qemu-img', ...overlayArgs(options.disk.path, overlayPath, options.disk.format)])];
  let spec = boot;
  if (boot.kind === 'firmware' && boot.firmware !== 'bios') {
    const vars = path.join(dir, 'uefi-vars.fd');
    lines.push(shellCommand(['cp', boot.firmware.uefi.vars, vars]));
    spec = { kind: 'firmware', firmware: { uefi: { code: boot.firmware.uefi.code, vars } } };
  }
  if (typeof options.accel !== 'string' && process.env.E2E_ACCEL === undefined) lines.push('# accelerator: tcg shown; a run probes KVM first (E2E_ACCEL=kvm|tcg decides)');
  if ((options.guestfwds ?? []).length > 0) lines.push(`# guestfwd host ports ${Object.values(DRY_RUN_FORWARD_PORTS).join(', ')} stand for the accounting proxies a run starts`);
  const args = machineQemuArgs(options, { spec, accel, sshPort: DRY_RUN_SSH_PORT, qmpSocket: path.join(dir, 'qmp.sock'), overlayPath });
  lines.push([QEMU_BINARY, ...args].map(quoteArg).join(' '));
  return lines;
}

/** Run the plan's steps on the target's real driver over a recorder: what it records is what it would run. */
async function guestCommands(target: Target, machine: MachinePlan, options: MachineOptions): Promise<string[]> {
  const seen: string[] = [];
  const driver = target.driver(recorder(machine.name, (line) => seen.push(line), options));
  for (const step of machine.steps) {
    const before = seen.length;
    try {
      await runStep(driver, step);
    } catch (error) {
      // The recorder answers every command with empty output, which parsers rightly refuse; only a step
      // that failed before sending anything is a real error.
      if (seen.length === before) throw error;
    }
  }
  return seen;
}

async function runStep(driver: UpdateDriver, step: GuestStep): Promise<unknown> {
  if (step === 'refs') return driver.refs();
  if (step === 'status') return driver.status();
  if (step === 'bootedCommit') return driver.bootedCommit();
  if (step === 'upgrade') return driver.upgrade();
  if (step === 'cleanupPending') return driver.cleanupPending();
  if (step === 'cleanupRollback') return driver.cleanupRollback();
  if (step === 'reboot') return driver.reboot();
  if ('commitMetadata' in step) return driver.commitMetadata(BOOTED_COMMIT, step.commitMetadata);
  if ('rebase' in step) return driver.rebase(step.rebase === 'derived-image' ? guestImageReference('derived') : OSTREE_UPDATE_REFSPEC);
  return driver.shell.execute(step.run);
}

/** A guest that records command lines (and the reboot command) and answers every command with exit 0 and no output. */
function recorder(name: string, record: (line: string) => void, options: MachineOptions): GuestMachine {
  const execute = async (command: Command): Promise<ExecResult> => {
    const line = toCommandLine(command);
    record(line);
    return { command: line, exitCode: 0, stdout: '', stderr: '', durationMs: 0 };
  };
  return {
    name,
    execute,
    succeed: async (command: Command) => (await execute(command)).stdout,
    reboot: async () => {
      record('systemctl is-system-running --wait    # the boot finishes first (Machine.reboot)');
      record(`${toCommandLine(options.rebootCommand ?? ['systemctl', 'reboot'])}    # then qemu exits (-no-reboot) and the harness boots the overlay again`);
    },
  };
}
