/** `convert()`: a raw volume (file or stream) to a Zarr store — the Chunker → ZarrSink pipeline plus checks. */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Chunker, planChunker, type ChunkerOptions } from './chunker.ts';
import { SlabchunkError } from './errors.ts';
import { checkInputSize, expectedInputBytes } from './sizecheck.ts';
import { resolveConvertOptions, type ConvertOptions, type ResolvedConvertOptions } from './options.ts';
import { checkStoreDir } from './sink/store.ts';
import { resolveSinkOptions, ZarrSink, type ZarrSinkOptions } from './sink/zarr.ts';

/** Progress of a running conversion, reported to `onProgress`. */
export interface Progress {
  /** Volume bytes read so far (header excluded). */
  bytesIn: number;
  /** Volume bytes in all (header excluded). */
  bytesTotal: number;
}

export interface ConvertRunOptions extends ConvertOptions {
  /** Called as input bytes arrive (at most once per input piece). */
  onProgress?: (progress: Progress) => void;
  /** Aborting stops the conversion with an AbortError; the partial store is removed. */
  signal?: AbortSignal;
}

/** What a finished conversion did. */
export interface Summary {
  input: string;
  store: string;
  options: ResolvedConvertOptions;
  /** Volume bytes read (header excluded). */
  bytesIn: number;
  /** Bytes of chunk files written (encoded). */
  bytesWritten: number;
  chunksWritten: number;
  /** Chunks not written because every voxel equals the fill value. */
  chunksSkipped: number;
  seconds: number;
  /** Input throughput in MB/s (10^6 bytes). */
  mbPerSecond: number;
  /** Peak resident memory of this process so far. */
  peakRssBytes: number;
}

/** A conversion whose arguments, input and output have been checked; nothing is created until `run()`. */
export interface PreparedConvert {
  readonly options: ResolvedConvertOptions;
  run(): Promise<Summary>;
}

/**
 * Converts a raw volume into a Zarr store at `output`.
 * `input` is a file path, `-` for standard input, or any Readable of the volume's bytes.
 * A failed run removes the store it created, so no half-written store is left behind.
 */
export async function convert(input: string | Readable, output: string, options: ConvertRunOptions): Promise<Summary> {
  return (await prepareConvert(input, output, options)).run();
}

/**
 * Every check `convert` makes before it creates anything: the options, the geometry, and a file input's size
 * against the shape. Errors thrown here are the caller's to fix (the CLI exits 2); errors from `run()` are
 * failures of the run (exit 1).
 */
export async function prepareConvert(input: string | Readable, output: string, options: ConvertRunOptions): Promise<PreparedConvert> {
  const opts = resolveConvertOptions(options);
  const chunkerOptions: ChunkerOptions = {
    shape: opts.shape,
    dtype: opts.dtype,
    chunk: opts.chunk,
    order: opts.inputOrder,
    edge: 'pad',
    fill: opts.fill,
    inputOrder: opts.inputOrder,
    endian: opts.endian,
  };
  planChunker(chunkerOptions);
  const sinkOptions: ZarrSinkOptions = {
    shape: opts.shape,
    dtype: opts.dtype,
    chunk: opts.chunk,
    codec: opts.codec,
    zarrFormat: opts.zarrFormat,
    fill: opts.fill,
    writeEmptyChunks: opts.writeEmptyChunks,
    inputOrder: opts.inputOrder,
    overwrite: opts.overwrite,
    ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}),
    ...(opts.attributes ? { attributes: opts.attributes } : {}),
  };
  resolveSinkOptions(sinkOptions);

  let open: () => Readable;
  if (typeof input === 'string' && input !== '-') {
    const stat = await fsp.stat(input).catch((cause: NodeJS.ErrnoException) => {
      throw new SlabchunkError('EINVALID', `cannot read input ${input}: ${cause.code ?? cause.message}; check the path`, { cause });
    });
    if (stat.isDirectory()) throw new SlabchunkError('EINVALID', `input ${input} is a directory; give the raw volume file`);
    if (stat.isFile()) checkInputSize(input, stat.size, opts.shape, opts.dtype, opts.header);
    open = () => fs.createReadStream(input, { start: opts.header, highWaterMark: 1 << 20 });
  } else {
    const stream = typeof input === 'string' ? process.stdin : input;
    open = () => (opts.header > 0 ? Readable.from(skipBytes(opts.header)(stream), { objectMode: false }) : stream);
  }
  await checkStoreDir(output, opts.overwrite);

  return {
    options: opts,
    async run() {
      const createdHere = !(await nonEmpty(output));
      const source = open();
      const chunker = new Chunker(chunkerOptions);
      const sink = new ZarrSink(output, sinkOptions);
      const bytesTotal = expectedInputBytes(opts.shape, opts.dtype, 0);
      let bytesIn = 0;
      source.on('data', (piece: Buffer) => {
        bytesIn += piece.length;
        options.onProgress?.({ bytesIn: Math.min(bytesIn, bytesTotal), bytesTotal });
      });
      const started = process.hrtime.bigint();
      try {
        await pipeline(source, chunker, sink, options.signal ? { signal: options.signal } : {});
      } catch (error) {
        // The sink may still be finishing its construction or in-flight writes: wait until it has closed.
        if (!sink.closed) await new Promise((resolve) => sink.once('close', resolve));
        if (createdHere || opts.overwrite) await fsp.rm(output, { recursive: true, force: true });
        throw error;
      }
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      return {
        input: typeof input === 'string' ? input : '<stream>',
        store: output,
        options: opts,
        bytesIn,
        bytesWritten: sink.stats.bytesStored,
        chunksWritten: sink.stats.chunksWritten,
        chunksSkipped: sink.stats.chunksSkipped,
        seconds,
        mbPerSecond: bytesIn / 1e6 / seconds,
        peakRssBytes: process.resourceUsage().maxRSS * 1024,
      };
    },
  };
}

async function nonEmpty(path: string): Promise<boolean> {
  try {
    return (await fsp.readdir(path)).length > 0;
  } catch {
    return false;
  }
}

/** Drops the first `count` bytes of a stream (a header on stdin, where we cannot seek). */
function skipBytes(count: number): (source: AsyncIterable<Buffer>) => AsyncGenerator<Buffer> {
  return async function* (source) {
    let left = count;
    for await (const piece of source) {
      if (left >= piece.length) {
        left -= piece.length;
        continue;
      }
      yield left > 0 ? piece.subarray(left) : piece;
      left = 0;
    }
  };
}
