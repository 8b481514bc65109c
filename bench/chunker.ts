/**
 * Chunker throughput and memory. A generated volume streams from a Readable (64 KiB pieces, as
 * fs.createReadStream gives) through the Chunker into a null Writable; the same-run baseline streams the same
 * pieces through a pass-through Transform. Each case runs in its own child process so peak RSS is per case;
 * the children run this file compiled by tsc, without the tsx loader, whose hooks thread alone holds ~45 MiB.
 *
 *   node --import tsx bench/chunker.ts [--sizes 1,4] [--dtypes uint8,uint16] [--chunks 64,128] [--order F] [--repeat 3]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { PassThrough, Readable, Writable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Chunker, planChunker, type ChunkerPlan } from '../src/stream/chunker.ts';
import { cutChunk } from '../src/stream/cut.ts';
import { RowBuffer } from '../src/stream/row-buffer.ts';
import { bytesPerElement, parseDType, type DType } from '../src/core/dtype.ts';
import { parseOrder, product, type Order, type Vec3 } from '../src/core/geometry.ts';

const MiB = 2 ** 20, GiB = 2 ** 30;
const PIECE = 64 * 1024;

interface Case { gib: number; dtype: DType; chunk: number; order: Order; repeat: number }
interface Result extends Case {
  shape: Vec3; rowBytes: number; baseSeconds: number; chunkerSeconds: number; chunks: number;
  cutOnlyGBps: number; startRssMiB: number; peakRssMiB: number; quarterRssMiB: number[];
}

/** The volume: 1024×1024 slabs, as deep as `gib` GiB needs, so the row size is the same at every depth. */
function shapeOf(c: Case): Vec3 {
  return [1024, 1024, (c.gib * GiB) / (1024 * 1024 * bytesPerElement(c.dtype))];
}

function source(total: number): Readable {
  const pattern = Buffer.alloc(PIECE);
  for (let i = 0; i < PIECE; i++) pattern[i] = (i * 31 + 7) & 0xff;
  let sent = 0;
  return new Readable({
    highWaterMark: PIECE,
    read() {
      if (sent >= total) { this.push(null); return; }
      const n = Math.min(PIECE, total - sent);
      // A fresh buffer per piece, as a file stream reads one: both runs pay the same.
      const piece = Buffer.allocUnsafe(n);
      pattern.copy(piece, 0, 0, n);
      sent += n;
      this.push(piece);
    },
  });
}

/**
 * Streams `total` bytes through `transform` into a null Writable. With `expected` records, also samples RSS
 * every 16 records (timers do not fire while the stream runs) and keeps the highest per quarter of the records,
 * to show whether memory grows with depth.
 */
async function timeThrough(total: number, transform: Transform, objectMode: boolean, expected = 0): Promise<{ seconds: number; count: number; quarters: number[] }> {
  let count = 0;
  const quarters = [0, 0, 0, 0];
  const sample = () => {
    const q = Math.min(3, Math.floor((4 * count) / expected));
    quarters[q] = Math.max(quarters[q]!, process.memoryUsage.rss() / MiB);
  };
  const sink = new Writable({
    objectMode,
    write(_c, _e, cb) {
      if (expected > 0 && count % 16 === 0) sample();
      count++;
      cb();
    },
  });
  const t0 = process.hrtime.bigint();
  await pipeline(source(total), transform, sink);
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, count, quarters };
}

/** Cutting chunks out of one row buffer with no stream around it: the ceiling the copy kernel sets. */
function cutOnlyBytesPerSecond(plan: ChunkerPlan): number {
  const row = new RowBuffer(plan.slabBytes, plan.rowBytes / plan.slabBytes);
  for (const band of row.bands) band.fill(1);
  const rows = Math.min(4, plan.rows[1]);
  const t0 = process.hrtime.bigint();
  for (let gz = 0; gz < rows; gz++) for (const cut of plan.layout.rowCuts(0)) cutChunk(plan, row, 0, cut);
  return (rows * plan.rowBytes) / (Number(process.hrtime.bigint() - t0) / 1e9);
}

async function child(c: Case): Promise<Result> {
  const shape = shapeOf(c);
  const options = { shape, dtype: c.dtype, chunk: [c.chunk, c.chunk, c.chunk] as Vec3, order: c.order };
  const plan = planChunker(options);
  // The first Chunker run alone sets the peak RSS; the timed runs follow, chunker after pass-through, both warm.
  const startRss = process.memoryUsage.rss();
  const first = await timeThrough(plan.inputBytes, new Chunker(options), true, product(plan.grid));
  const peak = process.resourceUsage().maxRSS * 1024;
  // Interleaved pairs, medians: the 2 cores are shared, so single runs swing by 2× or more.
  const baseTimes: number[] = [], runTimes: number[] = [];
  let chunks = 0;
  for (let i = 0; i < c.repeat; i++) {
    baseTimes.push((await timeThrough(plan.inputBytes, new PassThrough(), false)).seconds);
    const run = await timeThrough(plan.inputBytes, new Chunker(options), true);
    runTimes.push(run.seconds);
    chunks = run.count;
  }
  return {
    ...c, shape, rowBytes: plan.rowBytes, baseSeconds: median(baseTimes), chunkerSeconds: median(runTimes), chunks,
    cutOnlyGBps: cutOnlyBytesPerSecond(plan) / 1e9, startRssMiB: startRss / MiB, peakRssMiB: peak / MiB,
    quarterRssMiB: first.quarters,
  };
}

/** Compiles this bench and what it imports to plain ESM JavaScript; returns the compiled file. */
function compileSelf(): string {
  const self = fileURLToPath(import.meta.url);
  const root = join(self, '..', '..');
  const out = join(tmpdir(), 'slabchunk-bench-chunker');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'package.json'), '{ "type": "module" }\n');
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const result = spawnSync(process.execPath, [
    tsc, self, '--outDir', out, '--rootDir', root, '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--target', 'ES2022',
    '--allowImportingTsExtensions', '--rewriteRelativeImportExtensions', '--skipLibCheck', '--types', 'node', '--strict',
  ], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`tsc failed:\n${result.stdout}${result.stderr}`);
  return join(out, relative(root, self).replace(/\.ts$/, '.js'));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function list(value: string | undefined, fallback: string): string[] {
  return (value ?? fallback).split(',').map((s) => s.trim()).filter(Boolean);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      child: { type: 'string' }, sizes: { type: 'string' }, dtypes: { type: 'string' }, chunks: { type: 'string' },
      order: { type: 'string' }, repeat: { type: 'string' },
    },
  });
  if (values.child) {
    process.stdout.write(JSON.stringify(await child(JSON.parse(values.child) as Case)) + '\n');
    return;
  }
  const order = parseOrder(values.order ?? 'F');
  const repeat = Number(values.repeat ?? 3);
  const cases: Case[] = [];
  for (const dtype of list(values.dtypes, 'uint8,uint16').map(parseDType)) {
    for (const chunk of list(values.chunks, '64,128').map(Number)) {
      for (const gib of list(values.sizes, '1,4').map(Number)) cases.push({ gib, dtype, chunk, order, repeat });
    }
  }
  const compiled = compileSelf();
  console.log(`node ${process.version}, ${PIECE / 1024} KiB pieces, chunk order ${order}; each case in its own process; `
    + `GB/s from the median of ${repeat} interleaved runs`);
  console.log('| volume | dtype | chunk | row MiB | pass-through GB/s | chunker GB/s | ratio | cut-only GB/s | start RSS MiB | peak RSS MiB | RSS limit (2×row+80) | RSS MiB by quarter |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  const peaks = new Map<string, number>();
  for (const c of cases) {
    const out = spawnSync(process.execPath, [compiled, '--child', JSON.stringify(c)], { encoding: 'utf8', maxBuffer: 1 << 20 });
    if (out.status !== 0) throw new Error(`case ${JSON.stringify(c)} failed:\n${out.stderr}`);
    const r = JSON.parse(out.stdout.trim().split('\n').at(-1)!) as Result;
    const bytes = c.gib * GiB;
    const limit = (2 * r.rowBytes) / MiB + 80;
    const key = `${c.dtype} ${c.chunk}`;
    const flat = peaks.has(key) ? ` (${((r.peakRssMiB / peaks.get(key)! - 1) * 100).toFixed(1)}% vs first size)` : '';
    if (!peaks.has(key)) peaks.set(key, r.peakRssMiB);
    console.log(`| ${c.gib} GiB ${r.shape.join('×')} | ${c.dtype} | ${c.chunk}³ | ${(r.rowBytes / MiB).toFixed(0)} | `
      + `${(bytes / r.baseSeconds / 1e9).toFixed(2)} | ${(bytes / r.chunkerSeconds / 1e9).toFixed(2)} | `
      + `**${(r.baseSeconds / r.chunkerSeconds).toFixed(2)}** | ${r.cutOnlyGBps.toFixed(2)} | ${r.startRssMiB.toFixed(0)} | ${r.peakRssMiB.toFixed(0)}${flat} | `
      + `${limit.toFixed(0)} ${r.peakRssMiB <= limit ? 'ok' : 'OVER'} | ${r.quarterRssMiB.map((q) => q.toFixed(0)).join(' / ')} |`);
  }
}

await main();
