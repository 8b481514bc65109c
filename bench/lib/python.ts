/**
 * Finds the Python interpreters that carry the independent Zarr implementations
 * (installed by scripts/python-peers.sh) and runs the peer scripts in bench/peers/.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const BENCH_DATA = join(ROOT, '.bench-data');
export const PEERS = join(ROOT, 'bench/peers');

/** The first interpreter among `candidates` on which `probe` (Python source) exits 0. */
function firstWorking(candidates: readonly string[], probe: string): string | null {
  for (const python of candidates) {
    if (python.includes('/') && !existsSync(python)) continue;
    try {
      execFileSync(python, ['-c', probe], { stdio: 'ignore', timeout: 60_000 });
      return python;
    } catch {
      // Not this one: missing interpreter or missing module.
    }
  }
  return null;
}

const VENV_PYTHON = join(BENCH_DATA, 'venv/bin/python');
let tensorstore: string | null | undefined;
let zarr2: string | null | undefined;

/** A Python with tensorstore and numpy, or null. */
export function tensorstorePython(): string | null {
  tensorstore ??= firstWorking([VENV_PYTHON, 'python3'], 'import tensorstore, numpy');
  return tensorstore;
}

/** A Python with zarr-python 2 (Debian's python3-zarr lives in /usr/bin/python3), or null. */
export function zarr2Python(): string | null {
  zarr2 ??= firstWorking(['/usr/bin/python3', VENV_PYTHON, 'python3'],
    'import zarr, numcodecs, numpy, sys; sys.exit(0 if zarr.__version__.startswith("2.") else 1)');
  return zarr2;
}

export const SETUP_HINT = 'run scripts/python-peers.sh to install it';
