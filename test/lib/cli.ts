import { PassThrough, Readable } from 'node:stream';
import { run, type CliIO } from '../../src/cli/run.ts';

export interface Ran { code: number; stdout: string; stderr: string }

/** Runs one `slabchunk` command line in-process, capturing its output and exit code. */
export async function slabchunk(args: string[], options: { stdin?: Readable; env?: NodeJS.ProcessEnv } = {}): Promise<Ran> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (b: Buffer) => out.push(b));
  stderr.on('data', (b: Buffer) => err.push(b));
  const io: CliIO = { env: options.env ?? {}, stdin: options.stdin ?? Readable.from([]), stdout, stderr };
  const code = await run(args, io);
  return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}
