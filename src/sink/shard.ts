/**
 * Zarr v3 `sharding_indexed` shards, built whole from their encoded inner chunks (never read-modify-write).
 * A shard is the present inner chunks back to back plus an index of `(offset, nbytes)` uint64 little-endian pairs,
 * one per inner chunk in C order over the shard's inner grid, `(2^64-1, 2^64-1)` for an absent chunk, encoded
 * with the `bytes` + `crc32c` index codecs (the index bytes, then their CRC32C, little-endian).
 */
import { crc32c } from '@node-rs/crc32';
import type { Vec3 } from '../geometry.ts';

export type IndexLocation = 'start' | 'end';

const ABSENT = 0xffff_ffff_ffff_ffffn;

/** Bytes of the encoded index of a shard holding `count` inner chunks. */
export function indexBytes(count: number): number {
  return count * 16 + 4;
}

/** Position of an inner chunk in its shard's index: C order over the inner grid (stored axes, slowest first). */
export function innerIndex(inner: Vec3, perShard: Vec3): number {
  return (inner[0] * perShard[1] + inner[1]) * perShard[2] + inner[2];
}

/**
 * The shard file: `chunks[i]` is inner chunk `i`'s encoded bytes, or undefined when absent. Undefined when
 * every inner chunk is absent (such a shard is not written).
 */
export function assembleShard(chunks: readonly (Uint8Array | undefined)[], location: IndexLocation): Buffer | undefined {
  const count = chunks.length;
  const indexSize = indexBytes(count);
  let dataSize = 0;
  let present = 0;
  for (const chunk of chunks) {
    if (chunk === undefined) continue;
    dataSize += chunk.length;
    present++;
  }
  if (present === 0) return undefined;
  const out = Buffer.allocUnsafe(dataSize + indexSize);
  const indexAt = location === 'start' ? 0 : dataSize;
  let offset = location === 'start' ? indexSize : 0;
  for (let i = 0; i < count; i++) {
    const chunk = chunks[i];
    const entry = indexAt + i * 16;
    if (chunk === undefined) {
      out.writeBigUInt64LE(ABSENT, entry);
      out.writeBigUInt64LE(ABSENT, entry + 8);
      continue;
    }
    out.set(chunk, offset);
    out.writeBigUInt64LE(BigInt(offset), entry);
    out.writeBigUInt64LE(BigInt(chunk.length), entry + 8);
    offset += chunk.length;
  }
  const index = out.subarray(indexAt, indexAt + count * 16);
  out.writeUInt32LE(crc32c(index) >>> 0, indexAt + count * 16);
  return out;
}
