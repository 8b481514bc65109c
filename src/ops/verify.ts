/** `verifyStore()`: re-reads the input and the store and names every chunk that differs. */
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Chunker, type Endian } from '../stream/chunker.ts';
import { bytesPerElement } from '../core/dtype.ts';
import { reverse, type Vec3 } from '../core/geometry.ts';
import { cOrderBytes, openStore } from '../zarr/reader.ts';
import { chunkKey } from '../zarr/metadata.ts';
import type { ChunkRecord } from '../stream/record.ts';
import { openVolumeInput } from '../input/raw.ts';

export interface VerifyOptions {
  /** Byte order of the input's elements. Default `little`. */
  endian?: Endian;
  /** Bytes to skip at the start of the input. Default 0. */
  header?: number;
  /** Chunks compared at once. Default 8. */
  concurrency?: number;
  onProgress?: (progress: { bytesIn: number; bytesTotal: number }) => void;
}

export interface VerifyResult {
  chunksCompared: number;
  /** Store keys of the chunks whose decoded bytes differ from the input's, in input order. */
  differing: string[];
}

/**
 * Compares every chunk of the store at `storePath` with the same chunk cut from `input` (a path, `-` or a
 * Readable). Shape, dtype, chunking, fill and input layout come from the store's metadata; an absent chunk must
 * be all fill in the input.
 */
export async function verifyStore(input: string | Readable, storePath: string, options: VerifyOptions = {}): Promise<VerifyResult> {
  const store = await openStore(storePath);
  const header = options.header ?? 0;
  const toVolume = (v: Vec3): Vec3 => (store.inputOrder === 'F' ? reverse(v) : v);
  const shape = toVolume(store.shape);
  const chunk = toVolume(store.chunks);
  const es = bytesPerElement(store.dtype);
  const bytesTotal = shape[0] * shape[1] * shape[2] * es;

  const source = (await openVolumeInput(input, shape, store.dtype, header)).read();
  const fill = typeof store.fill === 'boolean' ? Number(store.fill) : store.fill;
  const chunker = new Chunker({
    shape, dtype: store.dtype, chunk, order: store.inputOrder, edge: 'pad', fill,
    inputOrder: store.inputOrder, endian: options.endian ?? 'little',
  });

  let bytesIn = 0;
  source.on('data', (piece: Buffer) => {
    bytesIn += piece.length;
    options.onProgress?.({ bytesIn, bytesTotal });
  });

  // Sharded stores: name the shard file and the inner chunk within it (stored axes, slowest first).
  const per: Vec3 | undefined = store.shard && toVolume([store.shard[0] / store.chunks[0], store.shard[1] / store.chunks[1], store.shard[2] / store.chunks[2]]);
  const keyOf = (coords: Vec3): string => {
    if (!per) return chunkKey(coords, store.inputOrder, store.format);
    const shard: Vec3 = [Math.floor(coords[0] / per[0]), Math.floor(coords[1] / per[1]), Math.floor(coords[2] / per[2])];
    const inner = toVolume([coords[0] - shard[0] * per[0], coords[1] - shard[1] * per[1], coords[2] - shard[2] * per[2]]);
    return `${chunkKey(shard, store.inputOrder, store.format)} inner ${inner.join('/')}`;
  };
  const differing = new Map<number, string>();
  let chunksCompared = 0;
  const limit = options.concurrency ?? 8;
  const inFlight = new Set<Promise<void>>();
  const compare = async (record: ChunkRecord): Promise<void> => {
    const coords = toVolume(record.coords);
    const stored = cOrderBytes(await store.array.getChunk([...coords]), es);
    chunksCompared++;
    if (!record.data.equals(stored)) differing.set(record.index, keyOf(record.coords));
  };
  let failure: Error | undefined;
  const comparer = new Writable({
    objectMode: true,
    write(record: ChunkRecord, _encoding, callback) {
      if (failure) return callback(failure);
      const job: Promise<void> = compare(record)
        .catch((error: Error) => { failure ??= error; })
        .finally(() => inFlight.delete(job));
      inFlight.add(job);
      // Admit the next record only while fewer than `limit` comparisons run, so the input stream waits.
      if (inFlight.size < limit) callback();
      else void Promise.race(inFlight).then(() => callback(failure));
    },
    final(callback) {
      void Promise.all(inFlight).then(() => callback(failure));
    },
  });
  await pipeline(source, chunker, comparer);
  return {
    chunksCompared,
    differing: [...differing.entries()].sort((a, b) => a[0] - b[0]).map(([, key]) => key),
  };
}
