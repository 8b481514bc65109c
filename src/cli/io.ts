/** What a command runs against: the process's streams and environment, or a test's. */
import type { Readable, Writable } from 'node:stream';
import type { ParsedArgs } from './args.ts';

export interface CliIO {
  /** Environment to read array-job indices from. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  stdin: Readable;
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
}

/** A command: parsed arguments in, exit code out; errors thrown are reported by `run`. */
export type Command = (parsed: ParsedArgs, io: CliIO) => Promise<number>;

/** An error raised after checks passed and work began: a failed run (exit 1), whatever its code. */
export class RunFailure extends Error {
  constructor(readonly error: unknown) {
    super(error instanceof Error ? error.message : String(error));
  }
}

/** The bar shows on a terminal, or anywhere with --progress; never with --no-progress or --json. */
export function showProgress(parsed: ParsedArgs, io: CliIO): boolean {
  const { values } = parsed;
  return !values.noProgress && !values.json && (values.progress === true || io.stderr.isTTY === true);
}

export const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

/** JSON with bigints (fill values past 2^53) as exact integers. */
export function toJsonLine(value: unknown): string {
  return `${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}\n`;
}
