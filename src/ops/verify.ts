/** `verifyStore()`: re-reads the input and the store and names every chunk that differs or cannot be read back. */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { bytesPerElement } from '../core/dtype.ts';
import type { DType } from '../core/dtype.ts';
import { invalid, SlabchunkError, wrapError } from '../core/errors.ts';
import { formatShape, volumeBytes, type Order, type Vec3 } from '../core/geometry.ts';
import { describeInput, openInput, type DescribedInput, type PlaneSelection } from '../input/index.ts';
import { SLABCHUNK_DIR } from '../zarr/stores/lock.ts';
import { Chunker } from '../stream/chunker.ts';
import type { ChunkRecord } from '../stream/record.ts';
import { taskPool } from '../stream/task-pool.ts';
import { openStore, readChunkBytes } from '../zarr/reader.ts';
import { resolveOption, type Endian } from './options.ts';

export interface VerifyOptions {
  /** Byte order of the input's elements. Default `little`. */
  endian?: Endian;
  /** Bytes to skip at the start of the input. Default 0. */
  header?: number;
  /** The channel and time point of a multi-channel or multi-time-point TIFF input. Default: those the store was converted from. */
  channel?: number;
  time?: number;
  /** Chunks compared at once. Default as `convert`'s concurrency. */
  concurrency?: number;
  onProgress?: (progress: { bytesIn: number; bytesTotal: number }) => void;
}

export interface VerifyResult {
  chunksCompared: number;
  /** Store keys of the chunks whose decoded bytes differ from the input's, in input order. */
  differing: string[];
  /** Chunks that could not be read back (checksum mismatch, truncated, undecodable), in input order: the store is damaged there. */
  damaged: { key: string; message: string }[];
}

/**
 * Compares every chunk of the store at `storePath` with the same chunk cut from `input` (a path, `-` or a
 * Readable). Shape, dtype, chunking, fill and input layout come from the store's metadata; an absent chunk must
 * be all fill in the input.
 */
export async function verifyStore(input: string | Readable, storePath: string, options: VerifyOptions = {}): Promise<VerifyResult> {
  const store = await openStore(storePath);
  const { layout, dtype, format } = store;
  const { shape, chunk, inputOrder } = layout;
  const header = resolveOption('header', options.header)!;
  const concurrency = resolveOption('concurrency', options.concurrency, { chunk, dtype })!;
  const bytesTotal = volumeBytes(shape, bytesPerElement(dtype));
  const described = await describeInput(input, { ...await convertedPlanes(storePath), ...definedOf(options) });
  if (described) checkDescribed(described, storePath, shape, dtype, inputOrder, options);
  else if (options.channel !== undefined || options.time !== undefined) throw invalid('--channel and --time pick planes of a TIFF input; the input is raw bytes: drop them');
  const opened = described?.input ?? await openInput(input, { shape, dtype, header });
  const source = opened.read();
  const chunker = new Chunker({
    shape, dtype, chunk, order: inputOrder, edge: 'pad', fill: typeof store.fill === 'boolean' ? Number(store.fill) : store.fill,
    inputOrder, endian: resolveOption('endian', options.endian)!,
  });

  let bytesIn = 0;
  source.on('data', (piece: Buffer) => {
    bytesIn += piece.length;
    options.onProgress?.({ bytesIn, bytesTotal });
  });

  const differing = new Map<number, string>();
  const damaged = new Map<number, { key: string; message: string }>();
  let chunksCompared = 0;
  const compare = async (record: ChunkRecord): Promise<void> => {
    let stored: Uint8Array;
    try {
      stored = await readChunkBytes(store, record.coords);
    } catch (error) {
      // A chunk that cannot be decoded is reported with the others; a failing read (EIO, EMFILE) or a store that
      // cannot be read at all stops the run.
      if (!(error instanceof SlabchunkError && error.code === 'EREAD' && error.key !== undefined) || systemCause(error)) throw error;
      damaged.set(record.index, { key: error.key, message: error.message });
      return;
    }
    chunksCompared++;
    // Sharded stores: the shard file and the inner chunk within it.
    if (!record.data.equals(stored)) differing.set(record.index, layout.describe(record.coords, format));
  };
  const comparer: Writable = new Writable({
    objectMode: true,
    write(record: ChunkRecord, _encoding, callback) {
      // The next record is admitted once this one has a slot, so the input stream waits for the comparisons.
      pool.run(async () => {
        callback();
        await compare(record);
      });
    },
    final(callback) {
      void pool.drain().then(() => callback(pool.error as Error | undefined));
    },
  });
  const pool = taskPool(concurrency, (error) => comparer.destroy(error as Error));
  try {
    await pipeline(source, chunker, comparer);
  } catch (error) {
    throw wrapError(error, 'EREAD', `could not read ${opened.name}`);
  } finally {
    await pool.drain();
  }
  const inOrder = <T>(found: Map<number, T>): T[] => [...found.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v);
  return { chunksCompared, differing: inOrder(differing), damaged: inOrder(damaged) };
}

/** The channel and time point the store was converted from (its job record), so verify reads the same planes. */
async function convertedPlanes(storePath: string): Promise<PlaneSelection> {
  const text = await fsp.readFile(path.join(storePath, SLABCHUNK_DIR, 'job.json'), 'utf8').catch(() => undefined);
  if (text === undefined) return {};
  const job = JSON.parse(text) as { inputFormat?: string; inputChannel?: number; inputTime?: number };
  return job.inputFormat === 'tiff' && (job.inputChannel || job.inputTime) ? { channel: job.inputChannel ?? 0, time: job.inputTime ?? 0 } : {};
}

function definedOf({ channel, time }: VerifyOptions): PlaneSelection {
  return { ...(channel !== undefined ? { channel } : {}), ...(time !== undefined ? { time } : {}) };
}

/** A TIFF or HDF5 input must hold the store's volume: ESIZE / EINVALID naming both. */
function checkDescribed(described: DescribedInput, store: string, shape: Vec3, dtype: DType, inputOrder: Order, options: VerifyOptions): void {
  const name = described.input.name;
  if (options.header !== undefined || options.endian !== undefined) throw invalid(`--header and --endian describe raw input; ${name} states its own layout: drop them`);
  if (inputOrder !== 'F') throw invalid(`${store} was converted from C-order input; ${name} is read x fastest, so it cannot be compared`);
  if (described.shape.some((n, i) => n !== shape[i]) || described.dtype !== dtype) {
    throw new SlabchunkError('ESIZE', `${name} holds ${formatShape(described.shape)} ${described.dtype}, but ${store} holds ${formatShape(shape)} ${dtype}: it was converted from another input`);
  }
}

/** True when an operating-system error (EIO, EMFILE, …) is among the causes of `error`: a failed read, not damage. */
function systemCause(error: unknown): boolean {
  for (let e = error; e instanceof Error; e = e.cause) if ('syscall' in e) return true;
  return false;
}
