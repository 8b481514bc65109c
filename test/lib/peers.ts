/** The independent Zarr readers (tensorstore, zarr-python 2) run over many stores at once: bench/peers/read_compare.py. */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PEERS } from '../../bench/lib/python.ts';

export interface Result { store: string; ok: boolean; chunk?: string; error?: string }

/** Runs read_compare.py once over many stores; resolves the per-store results (exit status is ignored). */
export function readBack(python: string, reader: 'tensorstore' | 'zarr', batchFile: string): Promise<Map<string, Result>> {
  return runReader(python, 'read_compare.py', ['--reader', reader, '--batch', batchFile]);
}

/**
 * Runs read_compare.py once over many `s3://` stores: tensorstore reads each through its own `s3` kvstore from
 * the server `env` names (AWS_ENDPOINT_URL, credentials, region), without a download. Resolves the per-store results.
 */
export function readBackS3(python: string, batchFile: string, env: Readonly<Record<string, string>>): Promise<Map<string, Result>> {
  return runReader(python, 'read_compare.py', ['--reader', 'tensorstore', '--batch', batchFile], { ...process.env, ...env });
}

/** Runs one reader script of bench/peers and collects the JSON line it prints per store. */
function runReader(python: string, script: string, args: readonly string[], env?: NodeJS.ProcessEnv): Promise<Map<string, Result>> {
  return new Promise((resolve, reject) => {
    execFile(python, [join(PEERS, script), ...args],
      { cwd: PEERS, maxBuffer: 64 << 20, ...(env ? { env } : {}) }, (error, stdout, stderr) => {
        const lines = stdout.split('\n').filter((l) => l.startsWith('{'));
        if (lines.length === 0) return reject(new Error(`${script} printed nothing: ${error?.message ?? ''} ${stderr}`));
        resolve(new Map(lines.map((l) => JSON.parse(l) as Result).map((r) => [r.store, r])));
      });
  });
}

/** Writes the list of stores `read_compare.py --batch` reads to `dir/name.json`; its path. */
export async function writeBatch(dir: string, name: string, list: readonly object[]): Promise<string> {
  const file = join(dir, `${name}.json`);
  await writeFile(file, JSON.stringify(list));
  return file;
}
