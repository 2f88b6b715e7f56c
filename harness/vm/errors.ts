import { LayercheckError, describeValue } from '../util/errors.js';

/** An option given to the vm module is invalid; the message quotes the bad value. */
export class InvalidOptionError extends LayercheckError {
  constructor(where: string, option: string, expected: string, value: unknown) {
    super('E_INVALID_OPTION', `${where}: \`${option}\` must be ${expected}, got ${describeValue(value)}`, {
      option,
      value,
    });
  }
}

/** qemu answered a QMP command with an error, or the QMP connection broke. */
export class QmpError extends LayercheckError {
  constructor(message: string, context: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super('E_QMP', message, context, options);
  }
}

/** The qemu process or the guest inside it failed (qemu exited, a known console failure, a boot that did not happen). */
export class MachineError extends LayercheckError {
  constructor(code: string, machine: string, message: string, context: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(code, `${machine}: ${message}`, { ...context, machine }, options);
  }
}

/** Indent a block of console lines under an error message. */
export function formatTail(lines: readonly string[]): string {
  return lines.length === 0 ? '  (console empty)' : lines.map((line) => `  | ${line}`).join('\n');
}
