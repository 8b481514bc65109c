/**
 * Bench: converting the same volume from the formats it arrives in — a folder of uncompressed TIFF slices, a
 * multi-page BigTIFF (deflate + predictor), an HDF5 dataset (chunked, deflate) — against converting it from the raw
 * file, and against the script users write today (tifffile + zarr-python 2, slab by slab), all in the same run.
 * Every case writes the same store (Zarr v2, zstd:3, chunk 64³) and is read back by tensorstore against the raw
 * volume when the peers are installed.
 *
 *   npm run build && flock /tmp/bench.lock npm run bench:inputs            # 1 GiB uint16 1024×1024×512
 *   ... -- --quick                                                         # 256 MiB, for development
 *   ... -- --repeat 3                                                      # median of 3 runs per case
 *
 * Reported per case: wall seconds (the tool's own), ratio to the raw input's, process CPU seconds (GNU time)
 * and CPU ÷ wall (how many cores were busy), slabchunk's own CPU seconds of reading and decoding (worker threads)
 * and of its main thread, peak RSS and its excess over the raw case. Fixtures are written
 * once into .bench-data/inputs-* by bench/peers/make_inputs.py (tifffile, h5py). All inputs are in the page cache
 * (the machine has room for them), so the figures are decoding and writing, not the disk.
 */
import { existsSync } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Vec3 } from '../src/core/geometry.ts';
import { runChild, type ChildResult } from './lib/child.ts';
import { BENCH_DATA, PEERS, ROOT, SETUP_HINT, tensorstorePython, zarr2Python } from './lib/python.ts';
import { generateVolume } from './lib/volume.ts';

const MiB = 2 ** 20;
const CLI = join(ROOT, 'dist/cli/bin.cjs');
const PYTHON = '/usr/bin/python3';

const { values: opts } = parseArgs({ options: { quick: { type: 'boolean', default: false }, repeat: { type: 'string', default: '1' } } });
const repeat = Number(opts.repeat);
if (!Number.isInteger(repeat) || repeat < 1) throw new Error(`--repeat must be a positive integer; got ${opts.repeat}`);
const shape: Vec3 = opts.quick ? [1024, 1024, 128] : [1024, 1024, 512];
const bytes = shape[0] * shape[1] * shape[2] * 2;
const COMMON = ['--zarr-format', '2', '--codec', 'zstd:3', '--chunk', '64,64,64', '--overwrite', '--json', '--no-progress'];

interface Result {
  seconds: number;
  cpu: number | null;
  rss: number | null;
  check: string;
  /** slabchunk's own account (engine.cpuSeconds): the workers' reading and decoding, and the main thread. */
  stages?: { read: number; main: number };
}

if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first (the bench runs slabchunk compiled, as users do)`);

async function ensureInputs(): Promise<{ raw: string; dir: string }> {
  const raw = join(BENCH_DATA, `volume-${shape.join('x')}-uint16-s1.raw`);
  if ((await stat(raw).catch(() => null))?.size !== bytes) {
    console.error(`generating ${raw} ...`);
    await generateVolume(`${raw}.tmp`, shape, 'uint16', 1);
    await rename(`${raw}.tmp`, raw);
  }
  const dir = join(BENCH_DATA, `inputs-${shape.join('x')}`);
  if (!existsSync(join(dir, 'done'))) {
    console.error(`writing the TIFF folder, BigTIFF and HDF5 fixtures into ${dir} (tifffile, h5py) ...`);
    await rm(dir, { recursive: true, force: true });
    const r = await runChild(PYTHON, [join(PEERS, 'make_inputs.py'), raw, dir, '--shape', shape.join(',')], { cwd: PEERS });
    if (r.code !== 0) throw new Error(`make_inputs.py failed: ${r.stderr}`);
    await runChild('touch', [join(dir, 'done')]);
  }
  return { raw, dir };
}

/** Reads `store` back with tensorstore and compares it with the raw volume. */
async function readBack(store: string, raw: string): Promise<string> {
  const python = tensorstorePython();
  if (!python) return `not read back (tensorstore missing: ${SETUP_HINT})`;
  const r = await runChild(python, [join(PEERS, 'read_compare.py'), store, raw, '--shape', shape.join(','), '--dtype', 'uint16'], { cwd: PEERS });
  return r.code === 0 ? 'tensorstore: equal' : `tensorstore: DIFFERS (${r.stderr.trim().split('\n').pop()})`;
}

function failed(tool: string, r: ChildResult): never {
  throw new Error(`${tool} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim().split('\n').slice(-5).join('\n  ')}`);
}

async function slabchunk(input: string, extra: readonly string[], raw: string): Promise<Result> {
  const out = join(BENCH_DATA, 'out-inputs.zarr');
  await runChild('sync', []);
  const r = await runChild(process.execPath, [CLI, 'convert', input, out, ...extra, ...COMMON], { cwd: ROOT });
  if (r.code !== 0) failed('slabchunk', r);
  const summary = JSON.parse(r.stdout) as { seconds: number; peakRssBytes: number; engine: { cpuSeconds: { read: number; main: number } } };
  const check = await readBack(out, raw);
  await rm(out, { recursive: true, force: true });
  const { read, main } = summary.engine.cpuSeconds;
  return { seconds: summary.seconds, cpu: r.cpuSeconds, rss: r.peakRssBytes ?? summary.peakRssBytes, check, stages: { read, main } };
}

async function peer(input: string, raw: string): Promise<Result | string> {
  if (!zarr2Python()) return `skipped: zarr-python 2 missing (${SETUP_HINT})`;
  const out = join(BENCH_DATA, 'out-inputs-peer.zarr');
  await runChild('sync', []);
  const r = await runChild(PYTHON, [join(PEERS, 'tiff_zarr2_write.py'), input, out, '--shape', shape.join(','), '--codec', 'zstd:3'], { cwd: PEERS });
  if (r.code !== 0) failed('tifffile + zarr-python 2', r);
  const report = JSON.parse(r.stdout) as { seconds: number; peakRssBytes: number };
  const check = await readBack(out, raw);
  await rm(out, { recursive: true, force: true });
  return { seconds: report.seconds, cpu: r.cpuSeconds, rss: r.peakRssBytes ?? report.peakRssBytes, check };
}

/** The run with the median time of `repeat` runs. */
async function median(run: () => Promise<Result | string>): Promise<Result | string> {
  const runs: Result[] = [];
  for (let i = 0; i < repeat; i++) {
    const r = await run();
    if (typeof r === 'string') return r;
    runs.push(r);
  }
  return runs.sort((a, b) => a.seconds - b.seconds)[Math.floor(runs.length / 2)]!;
}

const { raw, dir } = await ensureInputs();
const slices = join(dir, 'slices');
const btf = join(dir, 'stack-deflate.btf');
const h5 = `${join(dir, 'volume.h5')}:/volume`;
const rawArgs = ['--shape', shape.join(','), '--dtype', 'uint16'];
const cases: [string, () => Promise<Result | string>][] = [
  ['raw file', () => slabchunk(raw, rawArgs, raw)],
  ['TIFF folder (uncompressed)', () => slabchunk(slices, [], raw)],
  ['BigTIFF (deflate)', () => slabchunk(btf, [], raw)],
  ['HDF5 (chunked, deflate)', () => slabchunk(h5, [], raw)],
  ['peer: TIFF folder (tifffile + zarr-python 2)', () => peer(slices, raw)],
  ['peer: BigTIFF (tifffile + zarr-python 2)', () => peer(btf, raw)],
];
const results = new Map<string, Result | string>();
for (const [label, run] of cases) {
  console.error(`${label} ...`);
  results.set(label, await median(run));
}

const base = results.get('raw file') as Result;
const peerOf: Record<string, string> = { 'TIFF folder (uncompressed)': 'peer: TIFF folder (tifffile + zarr-python 2)', 'BigTIFF (deflate)': 'peer: BigTIFF (tifffile + zarr-python 2)' };
console.log(`\n${(bytes / 2 ** 30).toFixed(2)} GiB uint16 ${shape.join('×')}, to Zarr v2 zstd:3 chunk 64³; ${repeat === 1 ? 'single runs' : `median of ${repeat}`}\n`);
console.log('| input | s | ÷ raw | CPU s | CPU ÷ wall | read CPU s | main thread s | peak RSS MiB | RSS − raw MiB | peer ÷ slabchunk | read back |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
for (const [label] of cases) {
  const r = results.get(label)!;
  if (typeof r === 'string') {
    console.log(`| ${label} | ${r} |||||||||`);
    continue;
  }
  const p = peerOf[label] ? results.get(peerOf[label]) : undefined;
  const speedup = p && typeof p !== 'string' ? `${(p.seconds / r.seconds).toFixed(2)}×` : '';
  const fmt = (n: number | null, d = 1) => (n === null ? 'n/a' : n.toFixed(d));
  console.log(`| ${label} | ${r.seconds.toFixed(2)} | ${(r.seconds / base.seconds).toFixed(2)}× | ${fmt(r.cpu)} | ${r.cpu === null ? 'n/a' : (r.cpu / r.seconds).toFixed(2)} `
    + `| ${r.stages ? r.stages.read.toFixed(2) : ''} | ${r.stages ? r.stages.main.toFixed(2) : ''} `
    + `| ${fmt(r.rss === null ? null : r.rss / MiB, 0)} | ${r.rss === null || base.rss === null ? 'n/a' : ((r.rss - base.rss) / MiB).toFixed(0)} | ${speedup} | ${r.check} |`);
}
