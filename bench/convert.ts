/**
 * Bench: how fast does `slabchunk convert` turn a raw volume into a Zarr store, against the disk's
 * limit (`cp` of the same file) and the Python writers people use today (zarr-python 2, tensorstore),
 * all in the same run on the same file, and what peak RSS does each need?
 *
 *   flock /tmp/bench.lock npm run bench:convert            # 1 GiB uint16 volume 1024×1024×512
 *   flock /tmp/bench.lock npm run bench:convert -- --quick  # 256 MiB (1024×1024×128) for development
 *   ... -- --codecs zstd:3 --shard none                     # only some codecs; no sharded case (default 256,256,256)
 *   ... -- --repeat 3                                       # median of 3 runs per tool (shared, noisy machine)
 *   ... -- --codecs zstd:3 --shard none --ome               # zstd:3 with and without an OME-Zarr pyramid (issue 12)
 *
 * Peers come from scripts/python-peers.sh; each missing one is skipped with a message. Every store
 * slabchunk writes is read back by tensorstore (bench/peers/read_compare.py) when it is installed.
 * slabchunk runs compiled (`npm run build` first, then `dist/cli/bin.cjs`), as users run it: the tsx loader would
 * add its own start-up and ~45 MiB per thread to the figures.
 */
import { existsSync } from 'node:fs';
import { readFile, rename, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Vec3 } from '../src/core/geometry.ts';
import type { EngineReport } from '../src/ops/engine/engine.ts';
import { canMeasureChildRss, runChild, type ChildResult } from './lib/child.ts';
import { BENCH_DATA, PEERS, ROOT, SETUP_HINT, tensorstorePython, zarr2Python } from './lib/python.ts';
import { storeSize } from './lib/store-size.ts';
import { generateVolume } from './lib/volume.ts';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const DTYPE = 'uint16';
const CHUNK: Vec3 = [64, 64, 64];
const CLI = join(ROOT, 'dist/cli/bin.cjs');

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    codecs: { type: 'string', default: 'raw,zstd:3,gzip:5' },
    shard: { type: 'string', default: '256,256,256' },
    keep: { type: 'boolean', default: false },
    repeat: { type: 'string', default: '1' },
    ome: { type: 'boolean', default: true },
  },
});

const repeat = Number(opts.repeat);
if (!Number.isInteger(repeat) || repeat < 1) throw new Error(`--repeat must be a positive integer; got ${opts.repeat}`);
const shape: Vec3 = opts.quick ? [1024, 1024, 128] : [1024, 1024, 512];
const inputBytes = shape[0] * shape[1] * shape[2] * 2;
const inputGiB = inputBytes / 2 ** 30;
const shard = opts.shard && opts.shard !== 'none' ? (opts.shard.split(',').map(Number) as unknown as Vec3) : null;
if (shard && (shard.length !== 3 || shard.some((v, i) => !Number.isInteger(v) || v % CHUNK[i] !== 0))) {
  throw new Error(`--shard must be X,Y,Z multiples of the chunk ${CHUNK.join(',')}; got ${opts.shard}`);
}

interface Case { label: string; codec: string; shard: Vec3 | null; ome?: true }
const cases: Case[] = opts.codecs.split(',').filter(Boolean).map((codec) => ({ label: codec, codec, shard: null }));
// Sharded case (issue 5): zstd:3 inner chunks in `shard` shards, against the unsharded zstd:3 row.
if (shard) cases.push({ label: `zstd:3 shard ${shard.join(',')}`, codec: 'zstd:3', shard });
// Pyramid case (issue 12): the same zstd:3 conversion writing every OME-Zarr level in the one pass, against the
// zstd:3 row of the same run. No peer builds a pyramid while it writes, so slabchunk alone runs it.
if (opts.ome && cases.some((c) => c.label === 'zstd:3')) cases.push({ label: 'zstd:3 --ome', codec: 'zstd:3', shard: null, ome: true });

type Tool = 'cp' | 'zarr-python 2' | 'tensorstore' | 'slabchunk';
interface Row {
  case: Case;
  tool: Tool;
  seconds: number;
  peakRssBytes: number | null;
  /** Process CPU seconds (GNU time; interpreter start-up included), null when unknown. */
  cpuSeconds: number | null;
  /** slabchunk's own account: threads, row buffers, encodes at once, CPU by stage. */
  engine?: EngineReport;
  files: number;
  storedBytes: number;
  verified: string;
}

function fmtMiB(bytes: number | null): string {
  return bytes === null ? 'n/a' : (bytes / MiB).toFixed(0);
}

async function isSharded(store: string): Promise<boolean> {
  const meta = await readFile(join(store, 'zarr.json'), 'utf8').catch(() => '{}');
  const codecs = (JSON.parse(meta) as { codecs?: { name: string }[] }).codecs ?? [];
  return codecs.some((codec) => codec.name === 'sharding_indexed');
}

/** Dirty pages from the previous run would otherwise be flushed on the next tool's time. */
async function settle(): Promise<void> {
  await runChild('sync', []);
}

function failure(tool: string, result: ChildResult): string {
  const tail = (result.stderr || result.stdout).trim().split('\n').slice(-6).join('\n    ');
  return `${tool} failed (exit ${result.code}):\n    ${tail}`;
}

async function ensureVolume(): Promise<string> {
  const path = join(BENCH_DATA, `volume-${shape.join('x')}-${DTYPE}-s1.raw`);
  const existing = await stat(path).catch(() => null);
  if (existing?.size === inputBytes) return path;
  console.error(`generating ${path} (${fmtMiB(inputBytes)} MiB) ...`);
  const t = performance.now();
  await generateVolume(`${path}.tmp`, shape, DTYPE, 1);
  await rename(`${path}.tmp`, path);
  console.error(`  done in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  return path;
}

function codecArgs(c: Case): string[] {
  return ['--codec', c.codec, ...(c.shard ? ['--shard', c.shard.join(',')] : []), ...(c.ome ? ['--ome'] : [])];
}

/** Median of three copies: a single cp swings several-fold with the page cache's writeback state. */
async function runCp(input: string): Promise<Row | string> {
  const out = join(BENCH_DATA, 'cp-copy.raw');
  const runs: ChildResult[] = [];
  for (let i = 0; i < 3; i++) {
    await settle();
    const r = await runChild('cp', [input, out]);
    await rm(out, { force: true });
    if (r.code !== 0) return failure('cp', r);
    runs.push(r);
  }
  runs.sort((a, b) => a.wallSeconds - b.wallSeconds);
  const median = runs[1];
  return { case: cases[0], tool: 'cp', seconds: median.wallSeconds, peakRssBytes: median.peakRssBytes, cpuSeconds: median.cpuSeconds, files: 1, storedBytes: inputBytes,
    verified: `median of ${runs.map((r) => r.wallSeconds.toFixed(2)).join(', ')} s` };
}

/** Runs a Python peer writer; its own JSON gives the seconds (interpreter start-up excluded). */
async function runPeer(tool: Tool, python: string, script: string, input: string, c: Case): Promise<Row | string> {
  const out = join(BENCH_DATA, `out-${tool.replace(/\W+/g, '')}`);
  await rm(out, { recursive: true, force: true });
  await settle();
  const args = [join(PEERS, script), input, out, '--shape', shape.join(','), '--dtype', DTYPE, '--chunk', CHUNK.join(','), ...codecArgs(c)];
  const r = await runChild(python, args, { cwd: PEERS });
  try {
    if (r.code !== 0) return failure(tool, r);
    const report = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { seconds: number; peakRssBytes: number };
    const size = await storeSize(out);
    return { case: c, tool, seconds: report.seconds, peakRssBytes: r.peakRssBytes ?? report.peakRssBytes, cpuSeconds: r.cpuSeconds, files: size.files, storedBytes: size.bytes, verified: '' };
  } finally {
    if (!opts.keep) await rm(out, { recursive: true, force: true });
  }
}

/** The fields of `slabchunk convert --json` the bench uses. */
interface Summary { seconds: number; peakRssBytes: number; engine: EngineReport }

async function runSlabchunk(input: string, c: Case, verify: boolean): Promise<Row | string> {
  const out = join(BENCH_DATA, 'out-slabchunk');
  await rm(out, { recursive: true, force: true });
  await settle();
  const args = [CLI, 'convert', input, out, '--shape', shape.join(','), '--dtype', DTYPE,
    '--chunk', CHUNK.join(','), ...codecArgs(c), '--json'];
  const r = await runChild(process.execPath, args, { cwd: ROOT });
  try {
    if (r.code !== 0) return failure('slabchunk', r);
    const summary = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as Summary;
    const size = await storeSize(out);
    if (c.shard && !(await isSharded(out))) return `slabchunk accepted --shard but wrote no sharding_indexed codec: sharding has not landed`;
    let verified = verify ? 'no reader' : '';
    const python = tensorstorePython();
    if (python && verify) {
      // A pyramid's level 0 is the volume (tests/interop checks the coarser levels against a reference).
      const check = await runChild(python, [join(PEERS, 'read_compare.py'), c.ome ? join(out, '0') : out, input, '--shape', shape.join(','), '--dtype', DTYPE], { cwd: PEERS });
      verified = check.code === 0 ? 'tensorstore ok' : `MISMATCH ${check.stdout.trim() || check.stderr.trim().split('\n').pop()}`;
    }
    return {
      case: c, tool: 'slabchunk', seconds: summary.seconds, peakRssBytes: r.peakRssBytes ?? summary.peakRssBytes, cpuSeconds: r.cpuSeconds,
      engine: summary.engine, files: size.files, storedBytes: size.bytes, verified,
    };
  } finally {
    if (!opts.keep) await rm(out, { recursive: true, force: true });
  }
}

/** The run with the median time; its note lists every run's time when there were several. */
function median(runs: Row[]): Row {
  const sorted = [...runs].sort((a, b) => a.seconds - b.seconds);
  const mid = sorted[(sorted.length - 1) >> 1];
  const verified = runs.map((r) => r.verified).find((v) => v !== '') ?? '';
  if (runs.length === 1) return { ...mid, verified };
  const times = runs.map((r) => r.seconds.toFixed(2)).join(', ');
  return { ...mid, verified: `${verified ? `${verified}; ` : ''}median of ${times} s` };
}

function ratio(a: number | undefined, b: number | undefined): string {
  return a === undefined || b === undefined ? '–' : `${(a / b).toFixed(2)}×`;
}

function table(rows: Row[], cpByCase: Map<Case, Row>): string {
  const lines = [
    '| case | tool | s | MB/s | time ÷ cp | time ÷ tensorstore | MB/s ÷ zarr-python 2 | CPU s/GiB | main thread s/GiB | peak RSS MiB | files | stored MiB | read back / note |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const c of cases) {
    const inCase = rows.filter((r) => r.case === c);
    const mbps = (r: Row | undefined) => (r ? inputBytes / 1e6 / r.seconds : undefined);
    const zarr2 = mbps(inCase.find((r) => r.tool === 'zarr-python 2'));
    const ts = inCase.find((r) => r.tool === 'tensorstore')?.seconds;
    const cp = cpByCase.get(c);
    for (const r of cp ? [cp, ...inCase] : inCase) {
      const main = r.engine ? (r.engine.cpuSeconds.main / inputGiB).toFixed(3) : '';
      lines.push(`| ${c.label} | ${r.tool} | ${r.seconds.toFixed(2)} | ${mbps(r)!.toFixed(0)} | ${ratio(r.seconds, cp?.seconds)} | ` +
        `${r.tool === 'tensorstore' || r.tool === 'cp' ? '' : ratio(r.seconds, ts)} | ${r.tool === 'zarr-python 2' || r.tool === 'cp' ? '' : ratio(mbps(r), zarr2)} | ` +
        `${r.cpuSeconds === null ? 'n/a' : (r.cpuSeconds / inputGiB).toFixed(2)} | ${main} | ${fmtMiB(r.peakRssBytes)} | ${r.files} | ${fmtMiB(r.storedBytes)} | ${r.verified} |`);
    }
  }
  return lines.join('\n');
}

/** Issue 10's targets, checked on the slabchunk rows. */
function targets(rows: Row[], cpByCase: Map<Case, Row>): string[] {
  const out: string[] = [];
  const find = (c: Case, tool: Tool) => rows.find((r) => r.case === c && r.tool === tool);
  const mark = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
  for (const r of rows.filter((x) => x.tool === 'slabchunk')) {
    const cp = cpByCase.get(r.case);
    const ts = find(r.case, 'tensorstore');
    const label = r.case.label;
    if (r.engine && (r.case.codec === 'raw' || r.case.codec === 'zstd:3')) {
      const main = r.engine.cpuSeconds.main / inputGiB;
      out.push(`${mark(main <= 0.25)} ${label}: main thread ${main.toFixed(3)} CPU-s per GiB (target ≤ 0.25)`);
    }
    const limit = (r.case.codec === 'raw' && !r.case.shard) ? 0.6 : r.case.shard ? 0.9 : r.case.codec === 'zstd:3' ? 0.85 : null;
    if (ts && limit !== null) out.push(`${mark(r.seconds <= limit * ts.seconds)} ${label}: time ${(r.seconds / ts.seconds).toFixed(2)}× tensorstore's (target ≤ ${limit}×)`);
    if (r.case.codec === 'raw' && !r.case.shard && cp) out.push(`${mark(r.seconds <= 2 * cp.seconds)} ${label}: time ${(r.seconds / cp.seconds).toFixed(2)}× cp's (target ≤ 2×)`);
    const rowBytes = shape[0] * shape[1] * Math.min(r.case.shard ? r.case.shard[2] : CHUNK[2], shape[2]) * 2;
    if (r.case.ome) {
      const flat = rows.find((x) => x.tool === 'slabchunk' && x.case.label === 'zstd:3');
      if (flat) out.push(`${mark(r.seconds <= 1.25 * flat.seconds)} ${label}: time ${(r.seconds / flat.seconds).toFixed(2)}× the same conversion without a pyramid (target ≤ 1.25×)`);
      if (flat?.peakRssBytes && r.peakRssBytes !== null) {
        const extra = r.peakRssBytes - flat.peakRssBytes;
        out.push(`${mark(extra <= rowBytes / 2)} ${label}: peak RSS ${fmtMiB(r.peakRssBytes)} MiB, ${fmtMiB(extra)} MiB over the same conversion without a pyramid (target ≤ 0.5 row = ${fmtMiB(rowBytes / 2)} MiB)`);
      }
      continue;
    }
    const rss = 2 * rowBytes + 150 * MiB;
    if (r.peakRssBytes !== null) out.push(`${mark(r.peakRssBytes <= rss)} ${label}: peak RSS ${fmtMiB(r.peakRssBytes)} MiB (target ≤ 2 ${r.case.shard ? 'shard-rows' : 'rows'} + 150 = ${fmtMiB(rss)} MiB)`);
  }
  return out;
}

/**
 * CPU-seconds per GiB by stage (slabchunk's own accounting) and the throughput they imply on bigger machines:
 * every stage but the main thread's runs on every core, so N cores convert at most N ÷ (CPU-s per GiB) GiB/s, and
 * never more than 1 ÷ (main thread's CPU-s per GiB). tensorstore's line is its process CPU (start-up included)
 * spread the same way: what its per-core cost implies, not a measurement on N cores.
 */
function scaling(rows: Row[]): string {
  const cores = [8, 16, 64];
  const lines = [
    '| case | tool | threads | row buffers | encodes at once | read | cut | downsample | encode + write + start-up | main thread | all | ' + cores.map((n) => `GiB/s on ${n} cores`).join(' | ') + ' |',
    `|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|${cores.map(() => '---:').join('|')}|`,
  ];
  const perGiB = (s: number) => s / inputGiB;
  for (const r of rows) {
    if (r.tool === 'slabchunk' && r.engine) {
      const cpu = r.engine.cpuSeconds;
      const all = perGiB(cpu.total);
      const implied = cores.map((n) => Math.min(n / all, 1 / perGiB(cpu.main)).toFixed(2));
      lines.push(`| ${r.case.label} | slabchunk | ${r.engine.threads} | ${r.engine.rowBuffers} | ${r.engine.peakEncodes} | ${perGiB(cpu.read).toFixed(2)} | ${perGiB(cpu.cut).toFixed(2)} | ${perGiB(cpu.reduce).toFixed(2)} | `
        + `${perGiB(cpu.other).toFixed(2)} | ${perGiB(cpu.main).toFixed(3)} | ${all.toFixed(2)} | ${implied.join(' | ')} |`);
    } else if (r.tool === 'tensorstore' && r.cpuSeconds !== null) {
      const all = perGiB(r.cpuSeconds);
      lines.push(`| ${r.case.label} | tensorstore | | | | | | | | | ${all.toFixed(2)} | ${cores.map((n) => (n / all).toFixed(2)).join(' | ')} |`);
    }
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const input = await ensureVolume();
  const zarr2 = zarr2Python();
  const ts = tensorstorePython();
  const build = await runChild('npm', ['run', 'build'], { cwd: ROOT });
  if (build.code !== 0) console.log(failure('npm run build', build));
  const haveCli = build.code === 0 && existsSync(CLI);
  console.log(`convert bench: ${shape.join('×')} ${DTYPE} (${fmtMiB(inputBytes)} MiB), chunk ${CHUNK.join(',')}; ` +
    `node ${process.version}, ${os.cpus().length} cpus, load ${os.loadavg()[0].toFixed(1)}; ${repeat} run(s) per tool; peak RSS ${canMeasureChildRss ? 'from /usr/bin/time -v' : 'as each tool reports it'}`);
  if (!zarr2) console.log(`skip zarr-python 2: not importable (${SETUP_HINT})`);
  if (!ts) console.log(`skip tensorstore: not importable (${SETUP_HINT}); slabchunk stores are not read back`);
  if (!haveCli) console.log(`skip slabchunk: ${CLI} could not be built`);

  const rows: Row[] = [];
  const cpByCase = new Map<Case, Row>();
  for (const c of cases) {
    console.error(`${c.label} ...`);
    // cp first in every case: the disk's limit measured right next to the runs it is compared with.
    const cp = await runCp(input);
    if (typeof cp === 'string') console.log(`  ${cp}`);
    else cpByCase.set(c, { ...cp, case: c });
    const runners: [Tool, (i: number) => Promise<Row | string>][] = [];
    if (zarr2 && !c.shard && !c.ome) runners.push(['zarr-python 2', () => runPeer('zarr-python 2', zarr2, 'zarr2_write.py', input, c)]);
    if (ts && !c.ome) runners.push(['tensorstore', () => runPeer('tensorstore', ts, 'tensorstore_write.py', input, c)]);
    if (haveCli) runners.push(['slabchunk', (i) => runSlabchunk(input, c, i === 0)]);
    // Repetitions interleave the tools, so a burst of load from outside hits all of them alike.
    const samples = new Map<Tool, Row[]>(runners.map(([tool]) => [tool, []]));
    for (let i = 0; i < repeat; i++) {
      for (const [tool, run] of runners) {
        if (!samples.has(tool)) continue;
        const row = await run(i);
        if (typeof row === 'string') {
          console.log(`  ${c.label}: ${row}`);
          samples.delete(tool);
        } else {
          samples.get(tool)!.push({ ...row, case: c });
        }
      }
    }
    for (const runs of samples.values()) rows.push(median(runs));
  }
  console.log();
  console.log(table(rows, cpByCase));
  console.log();
  console.log(scaling(rows));
  console.log();
  for (const line of targets(rows, cpByCase)) console.log(line);
  if (rows.some((r) => r.verified.startsWith('MISMATCH'))) process.exitCode = 1;
}

await main();
