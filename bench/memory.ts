/**
 * Bench: does `slabchunk convert`'s peak RSS stay flat as the input grows? Volumes of 1024×1024 uint16 slabs,
 * 0.25, 1 and 4 GiB deep (so the row is the same 128 MiB), converted with each codec by the compiled CLI; peak
 * RSS from GNU time. The baseline is the smallest volume, in the same run: the ratio of each to it, and the
 * issue-10 bound of 2 rows + 150 MiB.
 *
 *   flock /tmp/bench.lock node --import tsx bench/memory.ts [--gib 0.25,1,4] [--codecs raw,zstd:3]
 */
import { existsSync } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Vec3 } from '../src/core/geometry.ts';
import { canMeasureChildRss, runChild } from './lib/child.ts';
import { BENCH_DATA, ROOT } from './lib/python.ts';
import { generateVolume } from './lib/volume.ts';

const MiB = 2 ** 20;
const CLI = join(ROOT, 'dist/cli/bin.cjs');
const { values } = parseArgs({ options: { gib: { type: 'string', default: '0.25,1,4' }, codecs: { type: 'string', default: 'raw,zstd:3' } } });
const sizes = values.gib.split(',').map(Number);
const codecs = values.codecs.split(',');

async function volume(gib: number): Promise<{ path: string; shape: Vec3 }> {
  const shape: Vec3 = [1024, 1024, Math.round((gib * 2 ** 30) / (1024 * 1024 * 2))];
  const path = join(BENCH_DATA, `volume-${shape.join('x')}-uint16-s1.raw`);
  if ((await stat(path).catch(() => null))?.size !== shape[0] * shape[1] * shape[2] * 2) {
    console.error(`generating ${path} ...`);
    await generateVolume(`${path}.tmp`, shape, 'uint16', 1);
    await rename(`${path}.tmp`, path);
  }
  return { path, shape };
}

async function main(): Promise<void> {
  if (!canMeasureChildRss) {
    console.log('skip: GNU time (/usr/bin/time) is not installed, so a child\'s peak RSS cannot be read');
    return;
  }
  const build = await runChild('npm', ['run', 'build'], { cwd: ROOT });
  if (build.code !== 0 || !existsSync(CLI)) throw new Error(`npm run build failed:\n${build.stderr}`);
  const rowBytes = 1024 * 1024 * 64 * 2;
  const bound = 2 * rowBytes + 150 * MiB;
  console.log(`| codec | input GiB | s | peak RSS MiB | ÷ ${sizes[0]} GiB's | ≤ 2 rows + 150 MiB (${bound / MiB}) |`);
  console.log('|---|---:|---:|---:|---:|---|');
  for (const codec of codecs) {
    let base = 0;
    for (const gib of sizes) {
      const { path, shape } = await volume(gib);
      const out = join(BENCH_DATA, 'out-memory');
      await rm(out, { recursive: true, force: true });
      await runChild('sync', []);
      const r = await runChild(process.execPath, [CLI, 'convert', path, out, '--shape', shape.join(','), '--dtype', 'uint16', '--codec', codec, '--json']);
      await rm(out, { recursive: true, force: true });
      if (r.code !== 0) throw new Error(`convert failed: ${r.stderr}`);
      const summary = JSON.parse(r.stdout) as { seconds: number };
      const rss = r.peakRssBytes!;
      base ||= rss;
      console.log(`| ${codec} | ${gib} | ${summary.seconds.toFixed(2)} | ${(rss / MiB).toFixed(0)} | ${(rss / base).toFixed(3)} | ${rss <= bound ? 'PASS' : 'FAIL'} |`);
    }
  }
}

await main();
