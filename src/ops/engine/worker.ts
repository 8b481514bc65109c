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
import { bytesPerElement, swapElements, type ElementSize } from '../../core/dtype.ts';
import { SlabchunkError, wrapError } from '../../core/errors.ts';
import type { Vec3 } from '../../core/geometry.ts';
import { storedLayout, type ChunkCut, type StoredLayout } from '../../core/layout.ts';
import { readAt } from '../../input/read-at.ts';
import { openSlabReader, type SlabReader } from '../../input/slabs.ts';
import { cutChunk } from '../../stream/cut.ts';
import { chunkerPlanOf, type ChunkerPlan } from '../../stream/plan.ts';
import { RowBuffer } from '../../stream/row-buffer.ts';
import { ChunkFiles, emptyStats, loadSinkCodecs } from '../../zarr/chunk-files.ts';
import { ShardAssembler } from '../../zarr/shard-assembler.ts';
import { sinkOptionsOf } from '../../zarr/sink-options.ts';
import { FileSystemStore } from '../../zarr/stores/filesystem.ts';
import { threadCpuSeconds } from './cpu.ts';
import { PROBE_PEAK, PROBE_RUNNING, type CutTask, type EngineJob, type FillTask, type Reply, type ToWorker } from './protocol.ts';

const port = parentPort!;

/**
 * A young-generation collection after each cut task. The zstd binding hands back its frames as external buffers
 * that V8 does not count, so without this the dead ones pile up (~50 MiB in all on the bench volume) until
 * some unrelated collection; a scavenge frees them for about a millisecond per task.
 */
v8.setFlagsFromString('--expose-gc');
const collect = vm.runInNewContext('gc') as (options: { type: 'minor'; execution: 'sync' }) => void;
const post = (reply: Reply) => port.postMessage(reply);

/** One run's state: what every task of the run needs, built once per run. */
interface Run {
  readonly job: EngineJob;
  readonly layout: StoredLayout;
  readonly plan: ChunkerPlan;
  readonly rows: readonly RowBuffer[];
  readonly files: ChunkFiles;
  readonly elementSize: ElementSize;
  readonly chunkBytes: number;
  /** Chunk buffers, reused: a fresh one per chunk costs a page fault per page, more than the copy into it. */
  readonly spare: Buffer[];
  /** The cuts of the row last worked on: every task of a row needs them. */
  cutsOf: { row: number; cuts: ChunkCut[] };
  /** This thread's reader of a TIFF or HDF5 input. */
  readonly slabs: SlabReader | null;
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
  void (task.kind === 'fill' ? fill(r, task) : cut(r, task)).then(
    (stats) => {
      // Decoding a TIFF or HDF5 block leaves its strips and tiles (external buffers too) behind in the same way.
      if (task.kind === 'cut' || task.block) collect({ type: 'minor', execution: 'sync' });
      post({ type: 'done', id: task.id, stats, cpuSeconds: threadCpuSeconds() - cpu });
    },
    (error: unknown) => post({
      type: 'failed', id: task.id,
      error: toReply(wrapError(error, task.kind === 'fill' ? 'EREAD' : 'EWRITE', task.kind === 'fill' ? `could not read ${r.job.inputName}` : `could not write ${r.job.store}`)),
    }),
  );
});

async function start(job: EngineJob): Promise<Run> {
  const { options } = job;
  const layout = storedLayout(options);
  const plan = chunkerPlanOf(options, layout);
  const sink = sinkOptionsOf(options, layout, job.record);
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
  const codecs = await loadSinkCodecs(sink);
  const slabs = job.slabs ? await openSlabReader(job.slabs) : null;
  return {
    slabs,
    job, layout, plan,
    rows: job.rows.map((bands) => new RowBuffer(plan.slabBytes, job.bandSlabs * bands.length, job.bandSlabs * plan.slabBytes, bands)),
    files: new ChunkFiles(new FileSystemStore(job.store, { fsync: options.fsync }), sink, codecs, { onEncode }),
    elementSize: bytesPerElement(options.dtype),
    chunkBytes: sink.chunkBytes,
    spare: [],
    cutsOf: { row: -1, cuts: [] },
  };
}

async function fill({ job, rows, elementSize, slabs }: Run, task: FillTask) {
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

async function cut(run: Run, task: CutTask) {
  const { job: { options }, layout, plan, rows, files, spare } = run;
  if (run.cutsOf.row !== task.row) run.cutsOf = { row: task.row, cuts: layout.rowCuts(task.row) };
  const { cuts } = run.cutsOf;
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
