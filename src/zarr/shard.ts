/**
 * The Zarr v3 `sharding_indexed` shard format, written and read here. A shard is the present inner chunks back to
 * back plus an index of `(offset, nbytes)` uint64 little-endian pairs, one per inner chunk in C order over the
 * shard's inner grid (`StoredLayout.slot`), `(2^64-1, 2^64-1)` for an absent chunk, encoded with the `bytes` +
 * `crc32c` index codecs (the index bytes, then their CRC32C, little-endian). Shards are built whole from their
 * encoded inner chunks, never read-modify-write.
 */
import { crc32c } from '@node-rs/crc32';
import { checkCrc32c } from './codecs/crc32c.ts';

export type IndexLocation = 'start' | 'end';

const ABSENT = 0xffff_ffff_ffff_ffffn;

/** Bytes of the encoded index of a shard holding `count` inner chunks. */
export function indexBytes(count: number): number {
  return count * 16 + 4;
}

/** Byte range `[start, end)` of the index in a shard file of `fileBytes` bytes. */
export function indexRange(fileBytes: number, count: number, location: IndexLocation): readonly [number, number] {
  const length = indexBytes(count);
  return location === 'start' ? [0, length] : [fileBytes - length, fileBytes];
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

/** Where one inner chunk lies in its shard file; undefined for an absent one. */
export interface IndexEntry {
  readonly offset: number;
  readonly nbytes: number;
}

/**
 * The entries of an encoded index of `count` inner chunks (the bytes {@link indexRange} names), once its CRC32C
 * matches; EREAD when it does not.
 */
export function readShardIndex(index: Uint8Array, count: number): (IndexEntry | undefined)[] {
  checkCrc32c(index, 'the shard index');
  const view = new DataView(index.buffer, index.byteOffset, index.byteLength);
  const entries: (IndexEntry | undefined)[] = [];
  for (let i = 0; i < count; i++) {
    const offset = view.getBigUint64(i * 16, true);
    entries.push(offset === ABSENT ? undefined : { offset: Number(offset), nbytes: Number(view.getBigUint64(i * 16 + 8, true)) });
  }
  return entries;
}
