/** `inspectStore()`: what `slabchunk info` prints — geometry, codecs, and how much of the grid is on disk. */
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { DType } from '../core/dtype.ts';
import { gridShape, product, type Order, type Vec3 } from '../core/geometry.ts';
import { openStore } from '../zarr/reader.ts';
import { readRowMarkers } from '../zarr/markers.ts';
import { indexBytes, type IndexLocation } from '../zarr/shard.ts';

export interface StoreInfo {
  path: string;
  format: 2 | 3;
  /** Stored shape, slowest axis first. */
  shape: Vec3;
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

export async function inspectStore(storePath: string): Promise<StoreInfo> {
  const store = await openStore(storePath);
  const grid = gridShape(store.shape, store.shard ?? store.chunks);
  let filesPresent = 0;
  let bytesOnDisk = 0;
  let innerChunksPresent = 0;
  const perShard = store.shard ? product(store.shard) / product(store.chunks) : 0;
  for await (const file of walk(storePath)) {
    bytesOnDisk += file.size;
    if (file.metadata) continue;
    filesPresent++;
    if (store.shard) innerChunksPresent += await countInner(file.path, file.size, perShard, store.shardIndex ?? 'end');
  }
  const rowsDone = (await readRowMarkers(storePath)).size;
  return {
    path: storePath,
    format: store.format,
    shape: store.shape,
    ...(store.dimensionNames ? { dimensionNames: store.dimensionNames } : {}),
    dtype: store.dtype,
    chunks: store.chunks,
    ...(store.shard ? { shard: store.shard } : {}),
    fill: store.fill,
    inputOrder: store.inputOrder,
    codecs: store.format === 3 ? store.metadata.codecs : { compressor: store.metadata.compressor, filters: store.metadata.filters },
    filesTotal: product(grid),
    filesPresent,
    ...(store.shard ? { innerChunksPresent, innerChunksTotal: product(gridShape(store.shape, store.chunks)) } : {}),
    bytesOnDisk,
    ...(rowsDone > 0 ? { rowsDone } : {}),
    // Stored axis 0 is the input's slowest axis (z for F input, x for C input): rows run along it.
    rowsTotal: grid[0],
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

/** Inner chunks present in one shard file: index entries whose offset is not 2^64-1. */
async function countInner(file: string, size: number, count: number, location: IndexLocation): Promise<number> {
  const length = indexBytes(count);
  const handle = await fsp.open(file, 'r');
  try {
    const index = Buffer.alloc(length);
    await handle.read(index, 0, length, location === 'start' ? 0 : size - length);
    let present = 0;
    for (let i = 0; i < count; i++) if (index.readBigUInt64LE(i * 16) !== 0xffff_ffff_ffff_ffffn) present++;
    return present;
  } finally {
    await handle.close();
  }
}
