import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { slabchunk as cli, MAIN, spawnSlabchunk } from '../lib/cli.ts';
import { assertSameTree, fileTree as tree, markedRows } from '../lib/trees.ts';
import { generateVolume } from '../../bench/lib/volume.ts';

const scale = suite('scale-out');
let dir = '';
scale.before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'slabchunk-scale-'));
});
scale.after(() => fs.rmSync(dir, { recursive: true, force: true }));

const slabchunk = (args: string[], env: NodeJS.ProcessEnv = {}) => cli(args, { env });

const SHAPE = [40, 30, 50] as const;
const GEOMETRY = ['--shape', SHAPE.join(','), '--dtype', 'uint16', '--chunk', '8,8,8', '--codec', 'zstd:1'];
let input = '';
let reference = '';

scale('single-process reference conversion', async () => {
  input = path.join(dir, 'vol.raw');
  await generateVolume(input, SHAPE, 'uint16', 3);
  reference = path.join(dir, 'reference.zarr');
  const r = await slabchunk(['convert', input, reference, ...GEOMETRY]);
  assert.is(r.code, 0, r.stderr);
  // 50 slabs in rows of 8: 7 rows, all marked.
  assert.equal(fs.readdirSync(path.join(reference, '.slabchunk/rows')).sort(), ['0', '1', '2', '3', '4', '5', '6']);
});

for (const parts of [2, 3, 7, 9]) {
  scale(`${parts} parts (--part I/N) together write exactly the single-process store`, async () => {
    const store = path.join(dir, `parts-${parts}.zarr`);
    // Out of order on purpose: any part may start first.
    for (let i = parts - 1; i >= 0; i--) {
      const r = await slabchunk(['convert', input, store, ...GEOMETRY, '--part', `${i}/${parts}`]);
      assert.is(r.code, 0, r.stderr);
      assert.match(r.stderr, new RegExp(`part ${i} of ${parts} \\(--part\\): (rows \\d+–\\d+ of 7|no rows to convert .*nothing to do)`));
    }
    assertSameTree(store, reference);
  });
}

scale('SLURM and Kubernetes array indices come from the environment', async () => {
  const store = path.join(dir, 'slurm.zarr');
  for (const id of [11, 10, 12]) {
    const r = await slabchunk(['convert', input, store, ...GEOMETRY], { SLURM_ARRAY_TASK_ID: String(id), SLURM_ARRAY_TASK_MIN: '10', SLURM_ARRAY_TASK_COUNT: '3' });
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`part ${id - 10} of 3 \\(SLURM array task ${id}`));
  }
  assertSameTree(store, reference);
  const k8s = path.join(dir, 'k8s.zarr');
  for (const index of ['1', '0']) {
    const r = await slabchunk(['convert', input, k8s, ...GEOMETRY, '--parts', '2'], { JOB_COMPLETION_INDEX: index });
    assert.is(r.code, 0, r.stderr);
  }
  assertSameTree(k8s, reference);
});

scale('parts running as parallel processes write the same store', async () => {
  const store = path.join(dir, 'parallel.zarr');
  const codes = await Promise.all([0, 1, 2, 3].map((i) => new Promise<number>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'convert', input, store, ...GEOMETRY, '--part', `${i}/4`], { stdio: 'ignore' });
    child.on('exit', (code) => resolve(code ?? -1));
  })));
  assert.equal(codes, [0, 0, 0, 0]);
  assertSameTree(store, reference);
});

scale('resume with other options is refused before anything is written', async () => {
  const store = path.join(dir, 'mismatch.zarr');
  assert.is((await slabchunk(['convert', input, store, ...GEOMETRY, '--part', '0/2'])).code, 0);
  const before = tree(store);
  const r = await slabchunk(['convert', input, store, '--shape', SHAPE.join(','), '--dtype', 'uint16', '--chunk', '8,8,8', '--codec', 'gzip', '--resume']);
  assert.is(r.code, 2);
  assert.match(r.stderr, /was written with other options \(its zarr\.json differs/);
  assert.equal([...tree(store).keys()], [...before.keys()]);
  assert.match((await slabchunk(['convert', input, store, ...GEOMETRY, '--part', '1/2', '--overwrite'])).stderr, /overwrite cannot be combined/);
  assert.match((await slabchunk(['convert', '-', store, ...GEOMETRY, '--resume'])).stderr, /must be a regular file, not standard input or a stream/);
  // How the input is read is part of the job too: another byte order or header is refused.
  const endian = await slabchunk(['convert', input, store, ...GEOMETRY, '--resume', '--endian', 'big']);
  assert.is(endian.code, 2);
  assert.match(endian.stderr, /its \.slabchunk\/job\.json differs from this run's.*--endian, --header, --channel and --time/);
  // A folder of other files is not joined, even by a part.
  const folder = path.join(dir, 'notes');
  fs.mkdirSync(folder);
  fs.writeFileSync(path.join(folder, 'notes.txt'), 'mine');
  const foreign = await slabchunk(['convert', input, folder, ...GEOMETRY, '--part', '0/2']);
  assert.is(foreign.code, 2);
  assert.match(foreign.stderr, /holds files that are not part of a Zarr store \(notes\.txt\)/);
  assert.equal(fs.readdirSync(folder), ['notes.txt']);
});

scale('info shows rows done of total for an unfinished store; resume finishes it without rereading done rows', async () => {
  const store = path.join(dir, 'unfinished.zarr');
  assert.is((await slabchunk(['convert', input, store, ...GEOMETRY, '--part', '0/2'])).code, 0);
  const info = await slabchunk(['info', store]);
  assert.match(info.stdout, /rows done: {2}3 of 7 \(unfinished: rerun the same convert with --resume\)/);
  const resumed = await slabchunk(['convert', input, store, ...GEOMETRY, '--resume', '--json']);
  assert.is(resumed.code, 0, resumed.stderr);
  const summary = JSON.parse(resumed.stdout);
  assert.is(summary.rowsSkipped, 3);
  // Rows 3..6 are 26 of the 50 slabs.
  assert.is(summary.bytesIn, 26 * 40 * 30 * 2);
  assertSameTree(store, reference);
  const again = JSON.parse((await slabchunk(['convert', input, store, ...GEOMETRY, '--resume', '--json'])).stdout);
  assert.equal([again.bytesIn, again.rowsSkipped, again.chunksWritten], [0, 7, 0]);
});

/** Resolves once `store` has a row marked done (the run is under way). */
async function rowMarked(store: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (markedRows(store).length > 0) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`no row of ${store} was marked`);
}

const BIG = [192, 160, 192] as const;
const BIG_GEOMETRY = ['--shape', BIG.join(','), '--dtype', 'uint16', '--chunk', '32,32,16', '--codec', 'gzip:6', '--concurrency', '4'];

// SIGKILL and other faults: test/e2e/faults.test.ts.
scale('SIGINT stops cleanly with exit 130 and the resume hint; --resume completes the store', async () => {
  const bigInput = path.join(dir, 'big.raw');
  await generateVolume(bigInput, BIG, 'uint16', 5);
  const bigReference = path.join(dir, 'big-reference.zarr');
  const clean = await slabchunk(['convert', bigInput, bigReference, ...BIG_GEOMETRY]);
  assert.is(clean.code, 0, clean.stderr);
  const store = path.join(dir, 'sigint.zarr');
  const { child, exited } = spawnSlabchunk(['convert', bigInput, store, ...BIG_GEOMETRY]);
  // Once a row is finished, so the interrupt has something to keep.
  await rowMarked(store);
  child.kill('SIGINT');
  const end = await exited;
  assert.is(end.code, 130, end.stderr);
  assert.match(end.stderr, /interrupted; \d+ of 12 rows of \S+ are finished and kept; rerun with --resume to continue:\n  slabchunk convert --resume .*\n/);
  // Nothing torn or temporary is left by a clean interrupt.
  assert.not.ok((fs.readdirSync(store, { recursive: true }) as string[]).some((f) => f.endsWith('.partial')));
  const resumed = await slabchunk(['convert', bigInput, store, ...BIG_GEOMETRY, '--resume']);
  assert.is(resumed.code, 0, resumed.stderr);
  assertSameTree(store, bigReference);
});

scale.run();
