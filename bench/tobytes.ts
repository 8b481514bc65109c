/**
 * How fast is tobytes against what memory allows? Volume 512×512×256, chunk 64³, uint8 and float32,
 * four layout cases. Same-run baselines:
 * - `Buffer.copy`: the same bytes copied chunk-sized into freshly allocated buffers (the bandwidth limit,
 *   paying the same allocation and first-touch cost tobytes pays);
 * - naive: one `subarray`+`set` per contiguous run (matched layouts), a per-voxel typed-array loop
 *   (transposing layouts, where a run is one element).
 * Prints the best of REPS runs in MB/s of volume bytes, the ratios, and peak RSS.
 * A full GC runs before every timed run: the previous run's chunks are then freed and malloc hands
 * their pages back, so no contender pays (or dodges) first-touch page faults by the GC's timing.
 * On this VM a page fault costs ~10 µs, more than copying the page, and glibc hands freed chunk memory
 * back to the kernel (trim, mmap threshold), so without help most runs measure page faults, not copies.
 * The bench therefore re-runs itself with GLIBC_TUNABLES keeping freed memory in the heap: every
 * contender then runs on recycled pages (the fault counts printed show it). BENCH_MALLOC=default skips that.
 */
import { spawnSync } from 'node:child_process';
import v8 from 'node:v8';
import vm from 'node:vm';
import { tobytes } from '../src/stream/tobytes.ts';
import { denseStrides, type Order, type Vec3 } from '../src/core/geometry.ts';

const SHAPE: Vec3 = [512, 512, 256];
const CHUNK: Vec3 = [64, 64, 64];
const REPS = Number(process.env.REPS ?? 5);
const TUNABLES = 'glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=4294967295';

if (process.env.BENCH_MALLOC !== 'default' && process.env.GLIBC_TUNABLES === undefined) {
  const child = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, GLIBC_TUNABLES: TUNABLES },
  });
  process.exit(child.status ?? 1);
}
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

type Ctor = Uint8ArrayConstructor | Float32ArrayConstructor;

interface Timing {
  seconds: number;
  /** Minor page faults during the best run: first touches of fresh memory. */
  faults: number;
}

/** Best of REPS runs for each contender, interleaved so all see the same allocator state. */
function race(contenders: readonly (() => unknown)[]): Timing[] {
  const best = contenders.map(() => ({ seconds: Infinity, faults: 0 }));
  for (let r = 0; r < REPS; r++) {
    contenders.forEach((fn, i) => {
      gc();
      const faults = process.resourceUsage().minorPageFault;
      const t = process.hrtime.bigint();
      fn();
      const seconds = Number(process.hrtime.bigint() - t) / 1e9;
      if (seconds < best[i].seconds) best[i] = { seconds, faults: process.resourceUsage().minorPageFault - faults };
    });
  }
  return best;
}

function chunkStarts(): Vec3[] {
  const starts: Vec3[] = [];
  for (let z = 0; z < SHAPE[2]; z += CHUNK[2]) for (let y = 0; y < SHAPE[1]; y += CHUNK[1]) for (let x = 0; x < SHAPE[0]; x += CHUNK[0]) starts.push([x, y, z]);
  return starts;
}

function bufferCopy(src: Uint8Array, chunkBytes: number): Buffer[] {
  const whole = Buffer.from(src.buffer, src.byteOffset, src.byteLength);
  const out: Buffer[] = [];
  for (let o = 0; o < whole.length; o += chunkBytes) {
    const b = Buffer.allocUnsafe(chunkBytes);
    whole.copy(b, 0, o, o + chunkBytes);
    out.push(b);
  }
  return out;
}

/** Matched layouts: the inner axis is contiguous on both sides, one subarray+set per run. */
function naiveRuns(bytes: Uint8Array, es: number, layout: Order): Buffer[] {
  const st = denseStrides(SHAPE, layout);
  const cs = denseStrides(CHUNK, layout);
  const inner = layout === 'F' ? 0 : 2;
  const [j, k] = layout === 'F' ? [1, 2] : [1, 0];
  const run = CHUNK[inner] * es;
  const out: Buffer[] = [];
  for (const s of chunkStarts()) {
    const b = Buffer.allocUnsafe(CHUNK[0] * CHUNK[1] * CHUNK[2] * es);
    const base = s[0] * st[0] + s[1] * st[1] + s[2] * st[2];
    for (let c = 0; c < CHUNK[k]; c++) {
      for (let a = 0; a < CHUNK[j]; a++) {
        const so = (base + a * st[j] + c * st[k]) * es;
        b.set(bytes.subarray(so, so + run), (a * cs[j] + c * cs[k]) * es);
      }
    }
    out.push(b);
  }
  return out;
}

/** Transposing layouts: a per-voxel loop over the dtype's own typed array. */
function naiveVoxels(data: Uint8Array | Float32Array, ctor: Ctor, from: Order, to: Order): Buffer[] {
  const st = denseStrides(SHAPE, from);
  const cs = denseStrides(CHUNK, to);
  const out: Buffer[] = [];
  for (const s of chunkStarts()) {
    const b = Buffer.allocUnsafe(CHUNK[0] * CHUNK[1] * CHUNK[2] * ctor.BYTES_PER_ELEMENT);
    const d = new ctor(b.buffer, b.byteOffset, CHUNK[0] * CHUNK[1] * CHUNK[2]);
    for (let z = 0; z < CHUNK[2]; z++) for (let y = 0; y < CHUNK[1]; y++) for (let x = 0; x < CHUNK[0]; x++) {
      d[x * cs[0] + y * cs[1] + z * cs[2]] = data[(s[0] + x) * st[0] + (s[1] + y) * st[1] + (s[2] + z) * st[2]];
    }
    out.push(b);
  }
  return out;
}

const n = SHAPE[0] * SHAPE[1] * SHAPE[2];
const mbps = (bytes: number, s: number) => (bytes / 1e6 / s).toFixed(0);
console.log(`tobytes bench: shape ${SHAPE.join('×')}, chunk ${CHUNK.join('×')}, best of ${REPS}, node ${process.version}, GLIBC_TUNABLES=${process.env.GLIBC_TUNABLES ?? '(unset)'}`);
console.log('dtype    case  tobytes MB/s  Buffer.copy MB/s  naive MB/s  ×copy  ×naive  page faults (tobytes/copy/naive)');
for (const [name, ctor] of [['uint8', Uint8Array], ['float32', Float32Array]] as const) {
  const data = new ctor(n);
  for (let i = 0; i < n; i++) data[i] = (i * 2654435761) % 251;
  const bytes = new Uint8Array(data.buffer);
  const total = bytes.byteLength;
  const chunkBytes = CHUNK[0] * CHUNK[1] * CHUNK[2] * ctor.BYTES_PER_ELEMENT;
  for (const [from, to] of (process.env.CASES ? JSON.parse(process.env.CASES) : [["F", "F"], ["C", "C"], ["C", "F"], ["F", "C"]]) as [Order, Order][]) {
    const image = { data, shape: SHAPE, order: from };
    const [fast, copy, naive] = race([
      () => tobytes(image, CHUNK, to),
      () => bufferCopy(bytes, chunkBytes),
      () => (from === to ? naiveRuns(bytes, ctor.BYTES_PER_ELEMENT, from) : naiveVoxels(data, ctor, from, to)),
    ]);
    console.log(
      `${name.padEnd(8)} ${from}->${to}  ${mbps(total, fast.seconds).padStart(12)}  ${mbps(total, copy.seconds).padStart(16)}  ` +
        `${mbps(total, naive.seconds).padStart(10)}  ${(copy.seconds / fast.seconds).toFixed(2).padStart(5)}  ` +
        `${(naive.seconds / fast.seconds).toFixed(2).padStart(6)}  ${[fast, copy, naive].map((t) => t.faults).join('/')}`,
    );
  }
}
console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
