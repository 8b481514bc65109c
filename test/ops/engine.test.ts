/**
 * The convert engine against its reference: the public building blocks (Chunker → ZarrSink) run in the same test
 * on the same input must write the same files, byte for byte, whatever the threads, row buffers, input kind and
 * options. Plus the concurrency claim (instrumented in a real CLI process), the memory budget and a file that
 * changes under the engine.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fc from 'fast-check';
import { volumeBuffer } from '../../bench/lib/volume.ts';
import type { DType } from '../../src/core/dtype.ts';
import type { Vec3 } from '../../src/core/geometry.ts';
import { Chunker } from '../../src/stream/chunker.ts';
import { storedLayout } from '../../src/core/layout.ts';
import { convert, prepareConvert, type Summary } from '../../src/ops/convert.ts';
import { resolveConvertOptions } from '../../src/ops/options.ts';
import { chunkerPlanOf } from '../../src/stream/plan.ts';
import { BASE_BYTES, planMemory, threadBytes } from '../../src/ops/engine/memory.ts';
import { ZarrSink } from '../../src/zarr/sink.ts';
import { MAIN, slabchunk } from '../lib/cli.ts';
import { fileTree, markedRows } from '../lib/trees.ts';

const engine = suite('convert engine');
let dir = '';
engine.before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'slabchunk-engine-'));
});
engine.after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Every file under `root`, hidden ones included, except the job record and row markers the sink does not write. */
const tree = (root: string): Map<string, Buffer> => fileTree(root, (rel) => !rel.startsWith('.slabchunk'));

interface Case {
  shape: Vec3;
  chunk: Vec3;
  shardFactor: Vec3 | null;
  dtype: DType;
  codec: string;
  inputOrder: 'F' | 'C';
  endian: 'little' | 'big';
  zarrFormat: 2 | 3;
  threads: number;
  concurrency: number;
  stream: boolean;
  oneRow: boolean;
}

const DTYPES: DType[] = ['uint8', 'uint16', 'int32', 'float64'];
const CODECS = ['raw', 'zstd:1', 'gzip:1', 'blosc:zstd:1:shuffle', 'raw+crc32c'];

const caseArb: fc.Arbitrary<Case> = fc.record({
  shape: fc.tuple(fc.integer({ min: 1, max: 23 }), fc.integer({ min: 1, max: 19 }), fc.integer({ min: 1, max: 21 })),
  chunk: fc.tuple(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 })),
  shardFactor: fc.option(fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })), { nil: null }),
  dtype: fc.constantFrom(...DTYPES),
  codec: fc.constantFrom(...CODECS),
  inputOrder: fc.constantFrom('F' as const, 'C' as const),
  endian: fc.constantFrom('little' as const, 'big' as const),
  zarrFormat: fc.constantFrom(2 as const, 3 as const),
  threads: fc.integer({ min: 1, max: 4 }),
  concurrency: fc.integer({ min: 1, max: 9 }),
  stream: fc.boolean(),
  oneRow: fc.boolean(),
}).map((c) => ({
  ...c,
  // Zarr v2 has neither shards nor crc32c.
  shardFactor: c.zarrFormat === 2 ? null : c.shardFactor,
  codec: c.zarrFormat === 2 && c.codec.includes('crc32c') ? 'raw' : c.codec,
}));

/** The volume as the input file holds it: little-endian elements, or swapped for a big-endian input. */
function inputBytes(c: Case): Buffer {
  const bytes = Buffer.from(volumeBuffer(c.shape, c.dtype, 7));
  if (c.endian === 'big') {
    const size = { uint8: 1, uint16: 2, int32: 4, float64: 8 }[c.dtype as 'uint8'];
    if (size === 2) bytes.swap16();
    else if (size === 4) bytes.swap32();
    else if (size === 8) bytes.swap64();
  }
  return bytes;
}

let n = 0;
engine('writes what Chunker → ZarrSink write, byte for byte, for any geometry, options, threads and input kind', async () => {
  await fc.assert(fc.asyncProperty(caseArb, async (c) => {
    const id = n++;
    const bytes = inputBytes(c);
    const file = path.join(dir, `in-${id}.raw`);
    fs.writeFileSync(file, bytes);
    const shard = c.shardFactor ? (c.chunk.map((v, i) => v * c.shardFactor![i]!) as unknown as Vec3) : undefined;
    const array = {
      shape: c.shape, dtype: c.dtype, chunk: c.chunk, codec: c.codec, zarrFormat: c.zarrFormat, inputOrder: c.inputOrder,
      ...(shard ? { shard } : {}),
    };
    const reference = path.join(dir, `ref-${id}.zarr`);
    await pipeline(
      fs.createReadStream(file, { highWaterMark: 997 }),
      new Chunker({ ...array, order: c.inputOrder, endian: c.endian }),
      new ZarrSink(reference, array),
    );
    const out = path.join(dir, `engine-${id}.zarr`);
    const options = { ...array, endian: c.endian, threads: c.threads, concurrency: c.concurrency };
    // `oneRow`: a budget that holds one row buffer and every thread, so reading and encoding take turns.
    const resolved = resolveConvertOptions(options);
    const plan = chunkerPlanOf(resolved, storedLayout(resolved));
    const depth = Math.ceil(c.concurrency / c.threads);
    const chunkBytes = plan.chunk.reduce((a, b) => a * b) * plan.elementSize;
    const perThread = threadBytes({ rowBytes: plan.rowBytes, chunkBytes, threads: c.threads, depth, maxMemory: 0, ...(c.shardFactor ? { shardBytes: c.shardFactor.reduce((a, b) => a * b) * chunkBytes } : {}) });
    const summary = await convert(c.stream ? Readable.from([bytes.subarray(0, 5), bytes.subarray(5)]) : file, out, {
      ...options, ...(c.oneRow ? { maxMemory: BASE_BYTES + plan.rowBytes + c.threads * perThread } : {}),
    });
    // Two rows or fewer: a second buffer would overlap one read at most, not worth its first touch.
    assert.is(summary.engine.rowBuffers, c.oneRow || plan.rows[1] - plan.rows[0] <= 2 ? 1 : 2);
    assert.is(summary.engine.threads, c.threads);
    const expected = tree(reference);
    const actual = tree(out);
    assert.equal([...actual.keys()], [...expected.keys()], 'file lists differ');
    for (const [name, data] of expected) assert.ok(actual.get(name)!.equals(data), `${name} differs`);
    fs.rmSync(reference, { recursive: true });
    fs.rmSync(out, { recursive: true });
    fs.rmSync(file);
  }), { numRuns: 40, seed: 20261130 });
});

engine('--max-memory: two row buffers where they fit, one where only one does, and an error naming what would fit', async () => {
  const shape: Vec3 = [64, 64, 64];
  const file = path.join(dir, 'mem.raw');
  fs.writeFileSync(file, volumeBuffer(shape, 'uint16', 3));
  const args = ['convert', file, '', '--shape', '64,64,64', '--dtype', 'uint16', '--chunk', '32,32,16', '--threads', '2', '--concurrency', '2', '--json'];
  const run = async (name: string, budget: string) => {
    args[2] = path.join(dir, name);
    return slabchunk([...args, '--max-memory', budget]);
  };
  // Four rows of 64×64×16 uint16, chunks of 32×32×16.
  const rowBytes = 64 * 64 * 16 * 2;
  const perThread = threadBytes({ rowBytes, chunkBytes: 32 * 32 * 16 * 2, threads: 2, depth: 1, maxMemory: 0 });
  const two = await run('two.zarr', String(BASE_BYTES + 2 * rowBytes + 2 * perThread));
  assert.is(two.code, 0, two.stderr);
  assert.is((JSON.parse(two.stdout) as Summary).engine.rowBuffers, 2);
  const one = await run('one.zarr', String(BASE_BYTES + 2 * rowBytes + 2 * perThread - 1));
  assert.is(one.code, 0, one.stderr);
  const summary = JSON.parse(one.stdout) as Summary;
  assert.is(summary.engine.rowBuffers, 1);
  assert.is(summary.engine.threads, 2);
  assert.equal(tree(path.join(dir, 'one.zarr')), tree(path.join(dir, 'two.zarr')));
  const fewer = await run('fewer.zarr', String(BASE_BYTES + rowBytes + perThread));
  assert.is(fewer.code, 0, fewer.stderr);
  assert.is((JSON.parse(fewer.stdout) as Summary).engine.threads, 1);
  const none = await run('none.zarr', '10MiB');
  assert.is(none.code, 2);
  assert.match(none.stderr, /--max-memory 10\.0 MiB cannot hold one row \(0\.1 MiB\).*raise --max-memory to at least [\d.]+ MiB/);
  assert.not.ok(fs.existsSync(path.join(dir, 'none.zarr')), 'nothing is written when the budget cannot hold a row');
});

engine('planMemory: the estimate it checks is what it reports', () => {
  const needs = { rowBytes: 100 << 20, chunkBytes: 1 << 20, threads: 8, depth: 2, maxMemory: 2 ** 40 };
  const plan = planMemory(needs);
  assert.equal(plan, { rowBuffers: 2, threads: 8, bytes: BASE_BYTES + 2 * needs.rowBytes + 8 * threadBytes(needs) });
  const tight = planMemory({ ...needs, maxMemory: BASE_BYTES + needs.rowBytes + 3 * threadBytes(needs) });
  assert.equal(tight, { rowBuffers: 1, threads: 3, bytes: BASE_BYTES + needs.rowBytes + 3 * threadBytes(needs) });
});


/** A 32×32×64 uint8 volume in 8 chunk-rows of 8 slabs, and a store holding part 0 of 2 (rows 0–3) of it. */
async function halfDone(name: string): Promise<{ file: string; store: string; args: string[] }> {
  const file = path.join(dir, `${name}.raw`);
  fs.writeFileSync(file, volumeBuffer([32, 32, 64], 'uint8', 5));
  const store = path.join(dir, `${name}.zarr`);
  const args = ['convert', file, store, '--shape', '32,32,64', '--chunk', '8,8,8', '--codec', 'raw'];
  const first = await slabchunk([...args, '--part', '0/2']);
  assert.is(first.code, 0, first.stderr);
  assert.equal(markedRows(store), [0, 1, 2, 3]);
  return { file, store, args };
}

engine('a write that fails mid-row ends the run (one chunk in flight or many) with EWRITE naming the key; its row is not marked', async () => {
  for (const concurrency of ['1', '16']) {
    const { store, args } = await halfDone(`unwritable-${concurrency}`);
    // A file where row 5's chunk folder must go: every chunk of that row fails to write (ENOTDIR).
    fs.mkdirSync(path.join(store, 'c'), { recursive: true });
    fs.writeFileSync(path.join(store, 'c', '5'), 'in the way');
    const r = await slabchunk([...args, '--part', '1/2', '--threads', '1', '--concurrency', concurrency]);
    assert.is(r.code, 1, r.stderr);
    assert.match(r.stderr, /could not write c\/5\/\d+\/\d+ in /);
    const rows = markedRows(store);
    assert.ok(!rows.some((row) => row >= 5), `rows ${rows.join(', ')} are marked`);
    assert.equal(rows.slice(0, 4), [0, 1, 2, 3]);
  }
});

engine('a part from SLURM that fails prints a --resume command for that part, not the whole volume', async () => {
  const { store, args } = await halfDone('slurm-fails');
  fs.mkdirSync(path.join(store, 'c'), { recursive: true });
  fs.writeFileSync(path.join(store, 'c', '5'), 'in the way');
  const r = await slabchunk([...args, '--'], { env: { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_COUNT: '2' } });
  assert.is(r.code, 1, r.stderr);
  const command = /\n {2}(slabchunk convert .*)$/.exec(r.stderr.trim())?.[1];
  assert.is(command, `slabchunk convert --resume --part 1/2 ${args.slice(1).join(' ')} --`);
  fs.rmSync(path.join(store, 'c', '5'));
  const resumed = await slabchunk(command!.split(' ').slice(1));
  assert.is(resumed.code, 0, resumed.stderr);
  assert.equal(markedRows(store), [0, 1, 2, 3, 4, 5, 6, 7]);
});

engine('an input file truncated while it is read fails with EREAD naming it; only rows whose bytes all arrived are marked', async () => {
  const { file, store, args } = await halfDone('shrinks');
  const prepared = await prepareConvert(file, store, { shape: [32, 32, 64], chunk: [8, 8, 8], codec: 'raw', threads: 2, part: { index: 1, count: 2, source: 'test' } });
  // Rows 4 and half of 5 are left.
  fs.truncateSync(file, 32 * 32 * 44);
  const error = await prepared.run().then(() => null, (e: { code: string; message: string }) => e);
  assert.ok(error, 'the run must fail');
  assert.is(error.code, 'EREAD');
  assert.match(error.message, /input .*shrinks\.raw changed while it was being read \(its size went from 65536 to 45056 bytes\); no row read since is marked finished/);
  const rows = markedRows(store);
  assert.ok(!rows.some((row) => row >= 5), `rows ${rows.join(', ')} are marked`);
});

engine('an input appended to, rewritten in place or replaced mid-run fails naming the change; no row read after it is marked', async () => {
  const changes: [string, (file: string) => void, RegExp][] = [
    ['appended', (file) => fs.appendFileSync(file, Buffer.alloc(100)), /its size went from 65536 to 65636 bytes/],
    ['rewritten', (file) => {
      const fd = fs.openSync(file, 'r+');
      fs.writeSync(fd, Buffer.from([1, 2, 3]), 0, 3, 60_000);
      fs.closeSync(fd);
    }, /it was written to/],
    ['replaced', (file) => {
      fs.writeFileSync(`${file}.new`, fs.readFileSync(file));
      fs.renameSync(`${file}.new`, file);
    }, /another file replaced it/],
  ];
  for (const [name, change, reason] of changes) {
    const file = path.join(dir, `${name}.raw`);
    fs.writeFileSync(file, volumeBuffer([32, 32, 64], 'uint8', 5));
    // An hour old, so a write within the same tick of the coarse file clock still changes the time.
    const past = new Date(Date.now() - 3_600_000);
    fs.utimesSync(file, past, past);
    const store = path.join(dir, `${name}.zarr`);
    let changed = false;
    // The first piece read is the moment: every row is checked (and marked) after its last piece.
    const error = await convert(file, store, {
      shape: [32, 32, 64], chunk: [8, 8, 8], codec: 'raw', threads: 1,
      onProgress: () => {
        if (!changed) change(file);
        changed = true;
      },
    }).then(() => null, (e: { code: string; message: string }) => e);
    assert.ok(error, `${name}: the run must fail`);
    assert.is(error.code, 'EREAD', name);
    assert.match(error.message, new RegExp(`input .*${name}\\.raw changed while it was being read \\(${reason.source}\\)`), name);
    // No row was marked, so a fresh run keeps nothing.
    assert.not.ok(fs.existsSync(store), `${name}: the store was kept`);
  }
});

engine('aborting a run that waits on a stalled stream ends it promptly with EINTERRUPTED and destroys the stream (header or not)', async () => {
  for (const header of [0, 16]) {
    const stalled = new Readable({ read() {} });
    stalled.push(Buffer.alloc(1000, 1));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const ran = convert(stalled, path.join(dir, `stalled-${header}.zarr`), { shape: [32, 32, 64], chunk: [8, 8, 8], header, signal: controller.signal });
    const outcome = await Promise.race([
      ran.then(() => 'finished', (e: { code: string }) => e.code),
      new Promise((resolve) => setTimeout(resolve, 5000, 'still running after 5 s')),
    ]);
    assert.is(outcome, 'EINTERRUPTED');
    await new Promise((resolve) => setImmediate(resolve));
    assert.ok(stalled.destroyed, `the stream is destroyed (header ${header})`);
  }
});

engine('a stream in small pieces is not held in memory: the row buffers and a few pieces are all', async () => {
  // 64 MiB in 64 KiB pieces. Memory is read after a full collection every 64 pieces, so only what is still
  // reachable counts: were the pieces kept until the end, that would grow by all of them.
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const shape: Vec3 = [1024, 1024, 64];
  const piece = Buffer.alloc(64 * 1024, 3);
  let sent = 0;
  let most = 0;
  const source = new Readable({
    read() {
      if (sent % 64 === 0) {
        gc();
        most = Math.max(most, process.memoryUsage().arrayBuffers);
      }
      if (sent >= 1024) this.push(null);
      else {
        sent++;
        this.push(Buffer.from(piece));
      }
    },
  });
  gc();
  const before = process.memoryUsage().arrayBuffers;
  const summary = await convert(source, path.join(dir, 'pieces.zarr'), { shape, chunk: [64, 64, 16], codec: 'raw', threads: 2 });
  assert.is(summary.bytesIn, 64 * 2 ** 20);
  // Two row buffers of 16 MiB and slack; not the 64 MiB the stream carried.
  assert.ok(most - before < 40 * 2 ** 20, `reachable array buffers grew by ${((most - before) / 2 ** 20).toFixed(0)} MiB`);
});

/** Most threads the process `pid` had at once while it ran (sampled from /proc). */
function watchThreads(pid: number): () => number {
  let most = 0;
  const timer = setInterval(() => {
    try {
      most = Math.max(most, fs.readdirSync(`/proc/${pid}/task`).length);
    } catch {
      // the process has ended
    }
  }, 5);
  return () => {
    clearInterval(timer);
    return most;
  };
}

async function cliProcess(args: string[]): Promise<{ summary: Summary; threads: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const stop = watchThreads(child.pid!);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));
  const code = await new Promise((resolve) => child.on('close', resolve));
  const threads = stop();
  assert.is(code, 0, Buffer.concat(err).toString());
  return { summary: JSON.parse(Buffer.concat(out).toString()) as Summary, threads };
}

engine('--threads 8 runs 8 chunk encodes at once, on 8 workers and a libuv pool of 8 (counted in a real CLI process)', async () => {
  if (!fs.existsSync('/proc/self/task')) {
    console.log('  (skipped: no /proc to count threads)');
    return;
  }
  const shape: Vec3 = [256, 256, 64];
  const file = path.join(dir, 'threads.raw');
  fs.writeFileSync(file, volumeBuffer(shape, 'uint16', 9));
  const common = [file, '', '--shape', shape.join(','), '--dtype', 'uint16', '--chunk', '32,32,64', '--codec', 'gzip:9'];
  common[1] = path.join(dir, 'eight.zarr');
  const eight = await cliProcess(['convert', ...common, '--threads', '8', '--concurrency', '8']);
  common[1] = path.join(dir, 'single.zarr');
  const one = await cliProcess(['convert', ...common, '--threads', '1', '--concurrency', '1']);
  assert.is(eight.summary.engine.threads, 8);
  assert.is(eight.summary.engine.peakEncodes, 8, 'eight encodes were running at the same moment');
  assert.is(one.summary.engine.peakEncodes, 1);
  // 7 more workers, and a pool of 8 instead of libuv's default 4.
  assert.ok(eight.threads - one.threads >= 7 + 4, `threads: ${eight.threads} with --threads 8, ${one.threads} with --threads 1`);
  assert.equal(tree(path.join(dir, 'eight.zarr')), tree(path.join(dir, 'single.zarr')));
});

engine.run();
