/**
 * Zarr v3 `sharding_indexed` shards, built whole from their encoded inner chunks (never read-modify-write).
 * A shard is the present inner chunks back to back plus an index of `(offset, nbytes)` uint64 little-endian pairs,
 * one per inner chunk in C order over the shard's inner grid, `(2^64-1, 2^64-1)` for an absent chunk, encoded
 * with the `bytes` + `crc32c` index codecs (the index bytes, then their CRC32C, little-endian).
 */
import { crc32c } from '@node-rs/crc32';
import type { Vec3 } from '../core/geometry.ts';

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
 * The shard file as its parts in file order — the inner chunks present and the encoded index — for a store to
 * write one after the other (no concatenated copy of the shard). Undefined when every inner chunk is absent
 * (such a shard is not written). `chunks[i]` is inner chunk `i`'s encoded bytes, or undefined when absent.
 */
export function assembleShard(chunks: readonly (Uint8Array | undefined)[], location: IndexLocation): Uint8Array[] | undefined {
  const count = chunks.length;
  const index = Buffer.allocUnsafe(indexBytes(count));
  const parts: Uint8Array[] = [];
  let offset = location === 'start' ? index.length : 0;
  for (let i = 0; i < count; i++) {
    const chunk = chunks[i];
    if (chunk === undefined) {
      index.writeBigUInt64LE(ABSENT, i * 16);
      index.writeBigUInt64LE(ABSENT, i * 16 + 8);
      continue;
    }
    parts.push(chunk);
    index.writeBigUInt64LE(BigInt(offset), i * 16);
    index.writeBigUInt64LE(BigInt(chunk.length), i * 16 + 8);
    offset += chunk.length;
  }
  if (parts.length === 0) return undefined;
  index.writeUInt32LE(crc32c(index.subarray(0, count * 16)) >>> 0, count * 16);
  if (location === 'start') parts.unshift(index);
  else parts.push(index);
  return parts;
}
