/** `inspectStore()`: what `slabchunk info` prints — geometry, codecs, and how much of the grid is on disk. */
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { DType } from '../core/dtype.ts';
import { errorAt, SlabchunkError, wrapError } from '../core/errors.ts';
import { product, type Order, type Vec3 } from '../core/geometry.ts';
import { readRowMarkers } from '../zarr/markers.ts';
import { openStore } from '../zarr/reader.ts';
import { indexRange, readShardIndex, type IndexLocation } from '../zarr/shard.ts';
import { FileSystemStore } from '../zarr/stores/filesystem.ts';

export interface StoreInfo {
  path: string;
  format: 2 | 3;
  /** Stored shape, slowest axis first. */
  shape: Vec3;
  /** The volume's shape `[X, Y, Z]` (the input's axes). */
  volumeShape: Vec3;
  dimensionNames?: readonly string[];
  dtype: DType;
  /** Chunk shape (inner chunk when sharded), slowest first. */
  chunks: Vec3;
  shard?: Vec3;
  fill: number | bigint | boolean;
  inputOrder: Order;
  /** The codec chain as the metadata states it (v3 `codecs`, v2 `compressor`). */
  codecs: unknown;
  /** Chunk files the grid has room for (shard files when sharded). */
  filesTotal: number;
  /** Chunk (or shard) files present; absent ones read as the fill value. */
  filesPresent: number;
  /** Sharded stores: inner chunks the shards present hold, and room for in all. */
  innerChunksPresent?: number;
  innerChunksTotal?: number;
  /** Bytes of every file in the store, metadata included. */
  bytesOnDisk: number;
  /** Chunk-rows (shard-rows) along the input's slowest axis marked done, when slabchunk's markers are present. */
  rowsDone?: number;
  rowsTotal: number;
}

/** What `slabchunk info` reports: geometry, codecs, and how much of the grid is on disk. EREAD names what failed. */
export async function inspectStore(storePath: string): Promise<StoreInfo> {
  const store = await openStore(storePath);
  const { layout } = store;
  const { stored, file } = layout;
  let filesPresent = 0;
  let bytesOnDisk = 0;
  let innerChunksPresent = 0;
  let rowsDone: number;
  try {
    for await (const entry of walk(storePath)) {
      bytesOnDisk += entry.size;
      if (entry.metadata) continue;
      filesPresent++;
      if (stored.shard) {
        try {
          innerChunksPresent += await countInner(entry.path, entry.size, layout.chunksPerShard, store.shardIndex!);
        } catch (error) {
          const key = path.relative(storePath, entry.path).split(path.sep).join('/');
          throw errorAt(error, 'EREAD', `shard ${key} of ${storePath}`, { key });
        }
      }
    }
    rowsDone = (await readRowMarkers(new FileSystemStore(storePath))).size;
  } catch (error) {
    throw wrapError(error, 'EREAD', `could not read ${storePath}`);
  }
  return {
    path: storePath,
    format: store.format,
    shape: stored.shape,
    volumeShape: layout.shape,
    ...(store.dimensionNames ? { dimensionNames: store.dimensionNames } : {}),
    dtype: store.dtype,
    chunks: stored.chunks,
    ...(stored.shard ? { shard: stored.shard } : {}),
    fill: store.fill,
    inputOrder: layout.inputOrder,
    codecs: store.format === 3 ? store.metadata.codecs : { compressor: store.metadata.compressor, filters: store.metadata.filters },
    filesTotal: product(file.fileGrid),
    filesPresent,
    ...(stored.shard ? { innerChunksPresent, innerChunksTotal: product(file.grid) } : {}),
    bytesOnDisk,
    ...(rowsDone > 0 ? { rowsDone } : {}),
    rowsTotal: layout.rowsTotal,
  };
}

/** Every file under `dir`; hidden ones (`.zarray`, temp files, our `.slabchunk/`) and `zarr.json` count as metadata. */
async function* walk(dir: string, hidden = false): AsyncGenerator<{ path: string; size: number; metadata: boolean }> {
  for (const entry of await fsp.readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    const isHidden = hidden || entry.name.startsWith('.');
    if (entry.isDirectory()) yield* walk(full, isHidden);
    else if (entry.isFile()) {
      const { size } = await fsp.stat(full);
      yield { path: full, size, metadata: isHidden || entry.name === 'zarr.json' };
    }
  }
}

/** Inner chunks present in one shard file: its index entries that are not absent. */
async function countInner(path: string, size: number, count: number, location: IndexLocation): Promise<number> {
  const [start, end] = indexRange(size, count, location);
  if (start < 0) throw new SlabchunkError('EREAD', `is ${size} bytes, shorter than its index (${end - start} bytes): the file is truncated`);
  const handle = await fsp.open(path, 'r');
  try {
    const index = Buffer.alloc(end - start);
    await handle.read(index, 0, index.length, start);
    return readShardIndex(index, count).filter((entry) => entry !== undefined).length;
  } finally {
    await handle.close();
  }
}
