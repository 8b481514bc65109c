/**
 * Issue 6's questions: does splitting one conversion into 2 parallel parts (as two tasks of an array job would)
 * pay on this machine, and what does `--resume` cost on a finished store (it should read nothing)?
 * Baseline in the same run: the same conversion as 1 part. Each run is a child process (`--json` gives the
 * tool's own seconds; wall time includes start-up). Usage: node --import tsx bench/scaleout.ts [--quick] [--codec C]
 */
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { runChild, type ChildResult } from './lib/child.ts';
import { BENCH_DATA, ROOT } from './lib/python.ts';
import { generateVolume } from './lib/volume.ts';

const quick = process.argv.includes('--quick');
const codecAt = process.argv.indexOf('--codec');
const codec = codecAt > 0 ? process.argv[codecAt + 1]! : 'zstd:3';
const shape = quick ? [1024, 1024, 128] as const : [1024, 1024, 512] as const;
const CLI = join(ROOT, 'src/cli/bin.cts');
const bytes = shape[0] * shape[1] * shape[2] * 2;

async function volume(): Promise<string> {
  const path = join(BENCH_DATA, `volume-${shape.join('x')}-uint16-s1.raw`);
  if ((await stat(path).catch(() => null))?.size !== bytes) await generateVolume(path, shape, 'uint16', 1);
  return path;
}

function convert(input: string, store: string, extra: string[]): Promise<ChildResult> {
  return runChild(process.execPath, ['--import', 'tsx', CLI, 'convert', input, store, '--shape', shape.join(','), '--dtype', 'uint16',
    '--chunk', '64,64,64', '--codec', codec, '--json', '--no-progress', ...extra], { cwd: ROOT });
}

function check(r: ChildResult, what: string): { seconds: number; bytesIn: number; peakRssBytes: number } {
  if (r.code !== 0) throw new Error(`${what} failed: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  const summary = JSON.parse(r.stdout) as { seconds: number; bytesIn: number; peakRssBytes: number };
  return { ...summary, peakRssBytes: r.peakRssBytes ?? summary.peakRssBytes };
}

const input = await volume();
const one = join(BENCH_DATA, 'scaleout-1.zarr');
const two = join(BENCH_DATA, 'scaleout-2.zarr');
await rm(one, { recursive: true, force: true });
await rm(two, { recursive: true, force: true });

const t1 = performance.now();
const single = check(await convert(input, one, []), '1 part');
const oneWall = (performance.now() - t1) / 1000;

const t2 = performance.now();
const parts = (await Promise.all([0, 1].map((i) => convert(input, two, ['--part', `${i}/2`])))).map((r, i) => check(r, `part ${i}/2`));
const twoWall = (performance.now() - t2) / 1000;

const t3 = performance.now();
const resumed = check(await convert(input, one, ['--resume']), 'resume');
const resumeWall = (performance.now() - t3) / 1000;

const mib = (n: number) => (n / 2 ** 20).toFixed(0);
console.log(`volume ${shape.join('×')} uint16 (${mib(bytes)} MiB), chunk 64³, ${codec}`);
console.log('| run | wall s | tool s | MB/s (wall) | wall ÷ 1 part | peak RSS MiB |');
console.log('|---|---:|---:|---:|---:|---:|');
console.log(`| 1 part | ${oneWall.toFixed(2)} | ${single.seconds.toFixed(2)} | ${(bytes / 1e6 / oneWall).toFixed(0)} | 1.00× | ${mib(single.peakRssBytes)} |`);
console.log(`| 2 parallel parts | ${twoWall.toFixed(2)} | ${parts.map((p) => p.seconds.toFixed(2)).join(' + ')} | ${(bytes / 1e6 / twoWall).toFixed(0)} | ${(twoWall / oneWall).toFixed(2)}× | ${parts.map((p) => mib(p.peakRssBytes)).join(', ')} |`);
console.log(`| --resume on the finished store | ${resumeWall.toFixed(2)} | ${resumed.seconds.toFixed(3)} | – | ${(resumeWall / oneWall).toFixed(2)}× | ${mib(resumed.peakRssBytes)} (read ${resumed.bytesIn} bytes) |`);
await rm(one, { recursive: true, force: true });
await rm(two, { recursive: true, force: true });
