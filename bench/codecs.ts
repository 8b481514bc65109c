/**
 * Which zstd/gzip/blosc encoder the sink should use: MB/s of input encoded, 64³ uint16 chunks of a
 * microscopy-like volume (bench/lib/volume.ts), 8 chunks in flight, on this machine's cores.
 * Baseline (same run): numcodecs.js zstd (WebAssembly) on the main thread, which is what zarrita does;
 * for gzip, zlib.gzipSync on the main thread.
 *
 *   flock /tmp/bench.lock node --import tsx bench/codecs.ts [--mib 64]
 */
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import zlib from 'node:zlib';
import Zstd from 'numcodecs/zstd';
import { encodeWith, loadCodecs, parseCodec } from '../src/zarr/codecs/index.ts';
import { volumeBuffer } from './lib/volume.ts';

const { values } = parseArgs({ options: { mib: { type: 'string', default: '64' } } });
const MiB = 2 ** 20;
const C = 64;
const ES = 2;
const depth = Math.max(C, Math.round((Number(values.mib) * MiB) / (512 * 512 * ES) / C) * C);
const shape = [512, 512, depth] as const;
const volume = volumeBuffer(shape, 'uint16', 1);

/** 64³ chunks, F order, cut per row from the volume. */
function chunks(): Buffer[] {
  const out: Buffer[] = [];
  const [X, Y, Z] = shape;
  for (let gz = 0; gz < Z / C; gz++) for (let gy = 0; gy < Y / C; gy++) for (let gx = 0; gx < X / C; gx++) {
    const c = Buffer.allocUnsafe(C * C * C * ES);
    for (let z = 0; z < C; z++) for (let y = 0; y < C; y++) {
      const src = (((gz * C + z) * Y + gy * C + y) * X + gx * C) * ES;
      volume.copy(c, (z * C + y) * C * ES, src, src + C * ES);
    }
    out.push(c);
  }
  return out;
}
const input = chunks();
const totalBytes = input.length * C * C * C * ES;

type Encode = (data: Buffer) => Promise<Uint8Array>;

interface Run { seconds: number; stored: number; cores: number }

/** Best of two passes: the machine's two cores are shared, so one pass can be unlucky. */
async function run(encode: Encode, inflight = 8): Promise<Run> {
  const a = await pass(encode, inflight);
  const b = await pass(encode, inflight);
  return a.seconds <= b.seconds ? a : b;
}

/** Encodes every chunk with at most `inflight` at once; returns seconds, stored bytes, CPU cores kept busy. */
async function pass(encode: Encode, inflight: number): Promise<Run> {
  let next = 0;
  let stored = 0;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: inflight }, async () => {
    while (next < input.length) {
      const out = await encode(input[next++]);
      stored += out.length;
    }
  }));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  return { seconds, stored, cores: (cpu.user + cpu.system) / 1e6 / seconds };
}

/** numcodecs.js zstd (WebAssembly) in a pool of worker threads, one per core. */
function wasmPool(level: number, size: number): { encode: Encode; close: () => Promise<void> } {
  const url = import.meta.resolve('numcodecs/zstd');
  const code = `
    const { parentPort } = require('node:worker_threads');
    import(${JSON.stringify(url)}).then(({ default: Zstd }) => {
      const codec = new Zstd(${level});
      parentPort.on('message', async ({ id, data }) => {
        const out = await codec.encode(new Uint8Array(data));
        parentPort.postMessage({ id, out }, [out.buffer]);
      });
    });`;
  const workers = Array.from({ length: size }, () => new Worker(code, { eval: true }));
  const waiting = new Map<number, (out: Uint8Array) => void>();
  for (const w of workers) w.on('message', ({ id, out }: { id: number; out: Uint8Array }) => { waiting.get(id)!(out); waiting.delete(id); });
  let id = 0;
  return {
    encode: (data) => new Promise((resolve) => {
      const copy = new Uint8Array(data).buffer;
      const k = id++;
      waiting.set(k, resolve);
      workers[k % size].postMessage({ id: k, data: copy }, [copy]);
    }),
    close: async () => { await Promise.all(workers.map((w) => w.terminate())); },
  };
}

async function ours(codec: string): Promise<Encode> {
  const chain = await loadCodecs(parseCodec(codec), { elementSize: ES });
  return (d) => encodeWith(chain, d);
}

const mbps = (s: number) => totalBytes / MiB / s;
const rows: string[] = [];
function report(name: string, r: Run, base: Run) {
  const line = `${name.padEnd(44)} ${mbps(r.seconds).toFixed(0).padStart(6)} MB/s  ratio ${(base.seconds / r.seconds).toFixed(2)}×  compression ${(totalBytes / r.stored).toFixed(2)}×  cores busy ${r.cores.toFixed(2)}`;
  rows.push(line);
  console.log(line);
}

console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}; input: ${input.length} chunks of 64³ uint16 (${(totalBytes / MiB).toFixed(0)} MiB), ${availableParallelism()} cores, UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE ?? '4 (default)'}`);
const wasm = new Zstd(3);
const wasmMain = await run((d) => wasm.encode(d), 1);
report('zstd:3 numcodecs.js WASM, main thread (base)', wasmMain, wasmMain);
const pool = wasmPool(3, availableParallelism());
await pass(pool.encode, 8); // warm the workers' WebAssembly
report('zstd:3 numcodecs.js WASM, worker pool', await run(pool.encode, 8), wasmMain);
await pool.close();
report('zstd:3 @mongodb-js/zstd native, libuv pool', await run(await ours('zstd:3'), 8), wasmMain);
report('zstd:1 native', await run(await ours('zstd:1'), 8), wasmMain);
report('blosc:zstd:5:shuffle (ours: JS shuffle + native)', await run(await ours('blosc:zstd:5:shuffle'), 8), wasmMain);
report('blosc:zstd:5:bitshuffle (ours)', await run(await ours('blosc:zstd:5:bitshuffle'), 8), wasmMain);
report('zstd:3+crc32c native', await run(await ours('zstd:3+crc32c'), 8), wasmMain);
const gzipSync = await run(async (d) => zlib.gzipSync(d, { level: 5 }), 1);
report('gzip:5 zlib.gzipSync, main thread (base)', gzipSync, gzipSync);
report('gzip:5 async node:zlib, libuv pool', await run(await ours('gzip:5'), 8), gzipSync);
console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}; peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
