import type { ElementSize } from '../../core/dtype.ts';
import { invalid } from '../../core/errors.ts';

/**
 * A bytes-to-bytes codec (Zarr v3 terms): turns one chunk's bytes into the bytes stored.
 * `encode` never mutates its input, does its heavy work off the main thread where it can, and runs at most one
 * job on libuv's thread pool at a time, so the sink's concurrency is the whole budget.
 */
export interface BytesCodec {
  readonly kind: 'bytes_to_bytes';
  encode(data: Buffer): Promise<Buffer>;
}

/** What a codec may need to know about the array. */
export interface CodecContext {
  /** Bytes per element: blosc's `typesize`. */
  readonly elementSize: ElementSize;
}

/**
 * Everything slabchunk knows about one compressor, in its own module: its `--codec` grammar, its metadata in
 * both Zarr formats, the checks of chunk sizes, and a loader for the encoder (heavy dependencies load there,
 * on first use, so `--help` and `raw` never load a native binding).
 */
export interface Compressor<C extends { readonly name: string }> {
  readonly name: C['name'];
  /** This compressor's `--codec` grammar, e.g. `gzip[:level]`. */
  readonly grammar: string;
  /** Most `:`-separated arguments after the name. */
  readonly maxArgs: number;
  /** Parses the arguments after the name (at most `maxArgs`); EINVALID naming the bad one. */
  parse(args: readonly string[]): C;
  /** The canonical text: `parse` of it gives `config` back. */
  format(config: C): string;
  /** The Zarr v3 codec entry, or null when the compressor adds none (raw). */
  v3(config: C, ctx: CodecContext): object | null;
  /** The numcodecs config for Zarr v2's `compressor`, or null. */
  v2(config: C, ctx: CodecContext): object | null;
  /** Throws EINVALID, naming the fix, when chunks of `chunkBytes` bytes cannot be encoded. */
  checkChunkBytes(config: C, chunkBytes: number): void;
  load(config: C, ctx: CodecContext): Promise<BytesCodec>;
}

/** Parses an optional integer level argument (`fallback` when absent); EINVALID naming the range. */
export function parseLevel(text: string | undefined, name: string, min: number, max: number, fallback: number): number {
  if (text === undefined || text === '') return fallback;
  if (!/^-?\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw invalid(`${name} level must be an integer from ${min} to ${max}. Got: ${JSON.stringify(text)}`);
  }
  return Number(text);
}

