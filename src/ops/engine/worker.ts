/**
 * A convert engine worker thread: reads its share of each row into shared memory (positioned reads, or blocks of
 * TIFF or HDF5 planes decoded by its own reader, straight into the row buffer), then cuts, encodes and writes its
 * chunks or shards. One task at a time from the main thread;
 * inside a cut task up to `depth` chunks are in flight, so the cut of one overlaps the encode and write of others.
 * Workers outlive a run (a process converting many volumes starts them once): each run sends its job first.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { parentPort } from 'node:worker_threads';
import { downsampledPlane, downsampleSlab } from '../../core/downsample.ts';
import { bytesPerElement, swapElements, typedView, type DType, type ElementSize, type TypedArray } from '../../core/dtype.ts';
import { SlabchunkError, wrapError } from '../../core/errors.ts';
import { product, type Vec3 } from '../../core/geometry.ts';
import { parentRow, slabPairs, type LevelRows } from '../../core/pyramid.ts';
import { storedLayout, type ChunkCut, type StoredLayout } from '../../core/layout.ts';
import { readAt } from '../../input/read-at.ts';
import { openSlabReader, type SlabReader } from '../../input/slabs.ts';
import { cutChunk, pasteChunk } from '../../stream/cut.ts';
import { chunkerPlanOf, type ChunkerPlan } from '../../stream/plan.ts';
import { RowBuffer } from '../../stream/row-buffer.ts';
import { ChunkFiles, emptyStats, loadSinkCodecs, type SinkStats } from '../../zarr/chunk-files.ts';
import { openStore, readChunkBytes, type OpenedStore } from '../../zarr/reader.ts';
import { ShardAssembler } from '../../zarr/shard-assembler.ts';
import { sinkOptionsOf } from '../../zarr/sink-options.ts';
import { storeAt } from '../../zarr/stores/open.ts';
import type { Store } from '../../zarr/stores/types.ts';
import { threadCpuSeconds } from './cpu.ts';
import { levelOptions, rowsOf, type LevelSpec } from '../levels.ts';
import { PROBE_PEAK, PROBE_RUNNING, type CutTask, type EngineJob, type FillTask, type LoadTask, type ReduceTask, type Reply, type Task, type ToWorker } from './protocol.ts';

const port = parentPort!;

/**
 * A young-generation collection after each cut task. The zstd binding hands back its frames as external buffers
 * that V8 does not count, so without this the dead ones pile up (~50 MiB in all on the bench volume) until
 * some unrelated collection; a scavenge frees them for about a millisecond per task.
 */
v8.setFlagsFromString('--expose-gc');
const collect = vm.runInNewContext('gc') as (options: { type: 'minor'; execution: 'sync' }) => void;
const post = (reply: Reply) => port.postMessage(reply);

/** One array's state in a run: its layout, its plan, its chunk writer and its row buffers. */
interface LevelRun {
  readonly spec: LevelSpec;
  readonly layout: StoredLayout;
  readonly plan: ChunkerPlan;
  /** The level's array in the store (its own prefix of the one store the job writes). */
  readonly store: Store;
  readonly files: ChunkFiles;
  /** Its row buffers in this run (none for levels before the one rows come in at). */
  readonly rows: readonly RowBuffer[];
  /** One slab of the level above, kept for its pair in the next row (levels after `from`). */
  readonly carry: Uint8Array | null;
  /** Its factor from the level above in the file frame. */
  readonly factor: Vec3;
  readonly rowsInfo: LevelRows;
}

/** One run's state: what every task of the run needs, built once per run. */
interface Run {
  readonly job: EngineJob;
  readonly levels: readonly LevelRun[];
  readonly elementSize: ElementSize;
  /** The largest chunk of any level: the size of the reused chunk buffers. */
  readonly chunkBytes: number;
  /** Chunk buffers, reused: a fresh one per chunk costs a page fault per page, more than the copy into it. */
  readonly spare: Buffer[];
  /** The cuts of the row last worked on: every task of a row needs them. */
  cutsOf: { level: number; row: number; cuts: ChunkCut[] };
  /** This thread's reader of a TIFF or HDF5 input. */
  readonly slabs: SlabReader | null;
  /** The level rows are read back from, opened on the first load task. */
  stored: Promise<OpenedStore> | null;
  /** Reused by cut tasks that reduce their chunks: the real part of an edge chunk, and one reduced slab of a chunk. */
  compact: Buffer;
  reduced: Buffer;
  /** CPU seconds the task in progress has spent downsampling. */
  reduceSeconds: number;
}
let run: Run | null = null;
/** Counts jobs and releases: a job whose start finishes after its run was released is dropped, not kept. */
let generation = 0;

port.on('message', (message: ToWorker) => {
  if (message.type === 'job') {
    const mine = ++generation;
    void start(message.job).then(
      (started) => {
        if (mine !== generation) {
          started.slabs?.close();
          return;
        }
        run = started;
        post({ type: 'ready' });
      },
      (error: unknown) => {
        if (mine === generation) post({ type: 'failed', id: null, error: toReply(wrapError(error, 'EWRITE', 'could not start a worker')) });
      },
    );
    return;
  }
  if (message.type === 'release') {
    // The row buffers may be gigabytes: nothing of a finished run is kept.
    generation++;
    run?.slabs?.close();
    run = null;
    return;
  }
  const { task } = message;
  const cpu = threadCpuSeconds();
  const r = run!;
  const reading = task.kind === 'fill' || task.kind === 'load';
  r.reduceSeconds = 0;
  void perform(r, task).then(
    (stats) => {
      // Decoding a TIFF or HDF5 block leaves its strips and tiles (external buffers too) behind in the same way.
      if (task.kind === 'cut' || task.kind === 'load' || (task.kind === 'fill' && task.block)) collect({ type: 'minor', execution: 'sync' });
      const cpuSeconds = threadCpuSeconds() - cpu;
      post({ type: 'done', id: task.id, stats, cpuSeconds, reduceSeconds: task.kind === 'reduce' ? cpuSeconds : Math.min(cpuSeconds, r.reduceSeconds) });
    },
    (error: unknown) => post({
      type: 'failed', id: task.id,
      error: toReply(wrapError(error, reading ? 'EREAD' : 'EWRITE', reading ? `could not read ${r.job.inputName}` : `could not write ${r.job.store}`)),
    }),
  );
});

async function start(job: EngineJob): Promise<Run> {
  const { options } = job;
  const probe = new Int32Array(job.probe);
  const onEncode = (running: boolean): void => {
    if (!running) {
      Atomics.sub(probe, PROBE_RUNNING, 1);
      return;
    }
    const now = Atomics.add(probe, PROBE_RUNNING, 1) + 1;
    for (let peak = Atomics.load(probe, PROBE_PEAK); now > peak; peak = Atomics.load(probe, PROBE_PEAK)) {
      if (Atomics.compareExchange(probe, PROBE_PEAK, peak, now) === peak) break;
    }
  };
  const levels: LevelRun[] = [];
  // One store (one S3 client and its connections) for the job; the levels are prefixes of it.
  const root = storeAt(job.store, options);
  for (const spec of job.levels) {
    const o = levelOptions(options, spec);
    const store = spec.path ? root.within(spec.path) : root;
    const layout = storedLayout(o);
    const plan = chunkerPlanOf(o, layout);
    const sink = sinkOptionsOf(o, layout, job.record);
    const bandSlabs = job.bandSlabs[spec.level]!;
    levels.push({
      spec, layout, plan, store,
      files: new ChunkFiles(store, sink, await loadSinkCodecs(sink), { onEncode }),
      rows: (job.buffers[spec.level] ?? []).map((bands) => new RowBuffer(plan.slabBytes, bandSlabs * bands.length, bandSlabs * plan.slabBytes, bands)),
      carry: job.carries[spec.level] ? new Uint8Array(job.carries[spec.level]!) : null,
      factor: layout.toFile(spec.factor),
      rowsInfo: rowsOf(layout, spec),
    });
  }
  const slabs = job.slabs ? await openSlabReader(job.slabs) : null;
  return {
    slabs,
    job, levels,
    elementSize: bytesPerElement(options.dtype),
    chunkBytes: Math.max(...levels.map((l) => product(l.plan.chunk) * l.plan.elementSize)),
    spare: [],
    cutsOf: { level: -1, row: -1, cuts: [] },
    stored: null,
    compact: Buffer.alloc(0),
    reduced: Buffer.alloc(0),
    reduceSeconds: 0,
  };
}

function perform(run: Run, task: Task): Promise<SinkStats> {
  switch (task.kind) {
    case 'fill': return fill(run, task);
    case 'load': return load(run, task);
    case 'cut': return cut(run, task);
    case 'reduce': return Promise.resolve(reduce(run, task));
  }
}

/** The cuts of row `row` of `level`, kept for the next task of the same row. */
function cutsOf(run: Run, level: number, row: number): ChunkCut[] {
  if (run.cutsOf.level !== level || run.cutsOf.row !== row) run.cutsOf = { level, row, cuts: run.levels[level]!.layout.rowCuts(row) };
  return run.cutsOf.cuts;
}

async function fill({ job, levels, elementSize, slabs }: Run, task: FillTask): Promise<SinkStats> {
  const rows = levels[job.from]!.rows;
  const band = rows[task.buffer]!.bands[task.band]!;
  if (slabs && task.block) await slabs.read(task.block, band.subarray(task.at), rows[task.buffer]!.slabBytes);
  else if (task.position !== null) {
    const done = readAt(job.inputFd!, band, task.at, task.length, task.position);
    if (done < task.length) {
      throw new SlabchunkError('EREAD', `${job.inputName} ended at byte ${task.position + done}, before the volume's end: it was truncated while being read`);
    }
  }
  if (job.options.endian === 'big' && elementSize > 1) {
    swapElements(band.subarray(task.at, task.at + task.length), elementSize);
  }
  return emptyStats();
}

/** Reads chunks of a row of level `job.from` back from the store (absent ones are fill) into its row buffer. */
async function load(run: Run, task: LoadTask): Promise<SinkStats> {
  const level = run.levels[run.job.from]!;
  run.stored ??= openStore(level.store);
  const stored = await run.stored;
  const cuts = cutsOf(run, run.job.from, task.row);
  const z0 = level.layout.slabsOf(task.row, task.row + 1)[0];
  for (let i = task.from; i < task.to; i++) {
    pasteChunk(level.plan, level.rows[task.buffer]!, z0, cuts[i]!, await readChunkBytes(stored, cuts[i]!.coords));
  }
  return emptyStats();
}

/**
 * Downsamples lines `[y0, y1)` of the next level's slabs that row `row` of `level` completes, into that level's
 * row buffer; a slab whose pair is in the next row is kept (those lines of it) in the next level's carry.
 */
function reduce(run: Run, task: ReduceTask): SinkStats {
  const { dtype, downsample } = run.job.options;
  const src = run.levels[task.level]!;
  const dst = run.levels[task.level + 1]!;
  const [z0, z1] = src.layout.slabsOf(task.row, task.row + 1);
  const [fx, fy, fz] = dst.factor as unknown as [1 | 2, 1 | 2, 1 | 2];
  const { pairs, keep } = slabPairs(z0, z1, src.plan.file.shape[2], fz);
  const parent = parentRow(src.rowsInfo, dst.rowsInfo, task.row);
  const out0 = dst.layout.slabsOf(parent, parent + 1)[0];
  const [X, Y] = src.plan.file.shape;
  const OX = dst.plan.file.shape[0];
  const es = run.elementSize;
  const iy0 = task.y0 * fy;
  const iy1 = Math.min(Y, task.y1 * fy);
  const lines = iy1 - iy0;
  const from = src.rows[task.buffer]!;
  const into = dst.rows[0]!;
  const inputAt = (z: number): { buffer: ArrayBufferLike; offset: number } => {
    const { band, slab } = from.locate(z - z0);
    return { buffer: band.buffer, offset: band.byteOffset + slab * from.slabBytes + iy0 * X * es };
  };
  const { carry } = dst;
  for (const pair of pairs) {
    const first = pair.carried ? typedView(dtype, carry!.buffer, carry!.byteOffset + iy0 * X * es, lines * X) : view(dtype, inputAt(pair.first), lines * X);
    const inputs = pair.second === null ? [first] : [first, view(dtype, inputAt(pair.second), lines * X)];
    const { band, slab } = into.locate(pair.out - out0);
    const out = typedView(dtype, band.buffer, band.byteOffset + slab * into.slabBytes + task.y0 * OX * es, (task.y1 - task.y0) * OX);
    downsampleSlab(downsample, dtype, inputs, [X, lines], fx, fy, out);
  }
  if (keep !== null) {
    const at = inputAt(keep);
    carry!.set(new Uint8Array(at.buffer, at.offset, lines * X * es), iy0 * X * es);
  }
  return emptyStats();
}

/**
 * Downsamples one chunk of row `row` of `level`, just cut (`data`, padded to the full chunk), into the next level's
 * row buffer: the chunk tiles whole blocks (even along every halved axis), so it needs no voxel of another chunk.
 */
function reduceChunk(run: Run, level: number, row: number, cut: ChunkCut, data: Buffer): void {
  // Synchronous work on this thread, so its wall time is its CPU time (less any time the thread waited for a
  // core); a clock costs nothing where reading this thread's CPU time (/proc) costs as much as a small chunk's work.
  const started = performance.now();
  const { dtype, downsample } = run.job.options;
  const src = run.levels[level]!;
  const dst = run.levels[level + 1]!;
  const [fx, fy, fz] = dst.factor as unknown as [1 | 2, 1 | 2, 1 | 2];
  const [cx, cy] = src.layout.file.chunk;
  const [sx, sy, sz] = cut.size;
  const [x0, y0, z0] = cut.start;
  const es = run.elementSize;
  // The chunk's voxels as planes of [w, h]: the chunk itself, or at the far x or y edge (padded there) its real part.
  let bytes: Uint8Array = data;
  let [w, h] = [cx, cy];
  if (sx < cx || sy < cy) {
    if (run.compact.length < sx * sy * sz * es) run.compact = Buffer.allocUnsafeSlow(cx * cy * src.layout.file.chunk[2] * es);
    for (let k = 0; k < sz; k++) {
      for (let y = 0; y < sy; y++) run.compact.set(data.subarray(((k * cy + y) * cx) * es, ((k * cy + y) * cx + sx) * es), ((k * sy + y) * sx) * es);
    }
    bytes = run.compact;
    [w, h] = [sx, sy];
  }
  const [ox, oy] = downsampledPlane([w, h], fx, fy);
  if (run.reduced.length < ox * oy * es) run.reduced = Buffer.allocUnsafeSlow(Math.ceil(cx / fx) * Math.ceil(cy / fy) * es);
  const out = typedView(dtype, run.reduced.buffer, run.reduced.byteOffset, ox * oy);
  const slab = (k: number) => typedView(dtype, bytes.buffer, bytes.byteOffset + k * w * h * es, w * h);
  const into = dst.rows[0]!;
  const lineBytes = dst.plan.file.shape[0] * es;
  const parent = parentRow(src.rowsInfo, dst.rowsInfo, row);
  const out0 = dst.layout.slabsOf(parent, parent + 1)[0];
  for (let k = 0; k < sz; k += fz) {
    downsampleSlab(downsample, dtype, fz === 2 && k + 1 < sz ? [slab(k), slab(k + 1)] : [slab(k)], [w, h], fx, fy, out);
    const { band, slab: at } = into.locate((z0 + k) / fz - out0);
    for (let j = 0; j < oy; j++) {
      band.set(run.reduced.subarray(j * ox * es, (j + 1) * ox * es), at * into.slabBytes + (y0 / fy + j) * lineBytes + (x0 / fx) * es);
    }
  }
  run.reduceSeconds += (performance.now() - started) / 1000;
}

function view(dtype: DType, at: { buffer: ArrayBufferLike; offset: number }, length: number): TypedArray {
  return typedView(dtype, at.buffer, at.offset, length);
}

async function cut(run: Run, task: CutTask): Promise<SinkStats> {
  const { job: { options }, spare } = run;
  const { layout, plan, rows, files } = run.levels[task.level]!;
  const cuts = cutsOf(run, task.level, task.row);
  const z0 = layout.slabsOf(task.row, task.row + 1)[0];
  const row = rows[task.buffer]!;
  const before = { ...files.stats };
  /** Chunks cut and not yet written: at most `depth`, so the cut of the next overlaps their encodes and writes. */
  const inflight = new Set<Promise<void>>();
  let failure: unknown;
  const shards = layout.shard ? new ShardAssembler(layout, options.zarrFormat, options.shardIndex) : undefined;
  /** Raw inner chunks are their cut buffers: kept until their shard is written. */
  const held = new Map<string, Buffer[]>();
  const write = async (buffer: Buffer, coords: Vec3, data: Buffer): Promise<void> => {
    if (!shards) {
      const key = layout.key(coords, options.zarrFormat);
      const encoded = await files.encode(key, data);
      if (encoded !== undefined) await files.put(key, encoded);
      spare.push(buffer);
      return;
    }
    const slot = shards.claim(coords);
    const encoded = await files.encode(slot.key, data);
    if (encoded === data) held.set(slot.key, [...(held.get(slot.key) ?? []), buffer]);
    else spare.push(buffer);
    const done = shards.fill(slot, encoded);
    if (done === null) return;
    if (done.parts !== undefined) {
      await files.put(slot.key, done.parts);
      files.stats.shardsWritten++;
    }
    spare.push(...(held.get(slot.key) ?? []));
    held.delete(slot.key);
  };
  try {
    for (let i = task.from; i < task.to; i++) {
      while (inflight.size >= run.job.depth) await Promise.race(inflight);
      if (failure !== undefined) break;
      const buffer = spare.pop() ?? Buffer.allocUnsafeSlow(run.chunkBytes);
      const { coords, data } = cutChunk(plan, row, z0, cuts[i]!, buffer);
      if (task.reduce) reduceChunk(run, task.level, task.row, cuts[i]!, data);
      // Claims happen in cut order, before any await: the assembler counts a shard's inner chunks as they come.
      const job: Promise<void> = write(buffer, coords, data).catch((error: unknown) => {
        failure ??= error;
      }).finally(() => inflight.delete(job));
      inflight.add(job);
    }
  } finally {
    // The task answers only once nothing of it is still writing: the worker may be given other work next.
    await Promise.allSettled(inflight);
  }
  if (failure !== undefined) throw failure;
  const after = files.stats;
  return {
    chunksWritten: after.chunksWritten - before.chunksWritten,
    chunksSkipped: after.chunksSkipped - before.chunksSkipped,
    bytesStored: after.bytesStored - before.bytesStored,
    shardsWritten: after.shardsWritten - before.shardsWritten,
    bytesIn: 0,
  };
}

function toReply(error: SlabchunkError) {
  return { code: error.code, message: error.message, ...(error.key !== undefined ? { key: error.key } : {}) };
}
