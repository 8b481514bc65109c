import { spawn } from 'node:child_process';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { run, type CliIO } from '../../src/cli/run.ts';

/** The command's source entry, as the spawned tests run it. */
export const MAIN = path.resolve('src/cli/bin.cts');

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

/**
 * Runs `slabchunk ARGS` as a child process (from source, through tsx), collecting its stderr; `env` adds to the
 * environment. `killAfterMs` SIGKILLs a child a failed check left waiting on its input, so the test process can end.
 */
export function spawnSlabchunk(args: string[], options: { stdin?: 'ignore' | 'pipe'; killAfterMs?: number; env?: NodeJS.ProcessEnv } = {}) {
  const env = options.env ? { ...process.env, ...options.env } : process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'], env });
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => { stderr += b.toString(); });
  const deadline = options.killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), options.killAfterMs);
  deadline?.unref();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) => {
    child.on('exit', (code, signal) => {
      clearTimeout(deadline);
      resolve({ code, signal, stderr });
    });
  });
  return { child, exited };
}
