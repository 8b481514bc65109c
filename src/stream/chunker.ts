/**
 * The streaming heart of slabchunk: raw Z-slabs in, one {@link ChunkRecord} per chunk out, holding one row of
 * slabs in memory whatever the volume's depth. The Chunker itself is only the pump between the two sides; the
 * row's storage is a {@link RowBuffer}, its place in the volume a {@link RowCursor}, the cut {@link cutChunk}.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { invalid } from '../core/errors.ts';
import { cutChunk } from './cut.ts';
import { inputSizeError, isChunkerPlan, planChunker, type ChunkerOptions, type ChunkerPlan } from './plan.ts';
import { RowBuffer } from './row-buffer.ts';
import { RowCursor } from './row-cursor.ts';

export { planChunker, type ChunkerOptions, type ChunkerPlan, type Edge, type Endian } from './plan.ts';

/**
 * A Transform from raw volume bytes (pieces of any size) to {@link ChunkRecord}s: Fortran grid order for F input,
 * Fortran order over the file's grid for C input (the caller's z fastest), shard by shard with `shard`.
 *
 * Memory: one row buffer of {@link ChunkerPlan.rowBytes}, the readable side's chunks and the one input piece it
 * is working on. Extraction stops when `push()` returns false and resumes in `_read`; the write callback of a
 * piece is held until every chunk that piece completed has been pushed, so upstream pauses too.
 *
 * @example
 * fs.createReadStream('brain.raw').pipe(new Chunker({ shape: [2048, 2048, 1024], dtype: 'uint16', chunk: [64, 64, 64] }))
 */
export class Chunker extends Transform {
  readonly plan: ChunkerPlan;
  #row: RowBuffer | null = null;
  readonly #cursor: RowCursor;
  #received = 0;
  #piece: Uint8Array | null = null;
  #pieceOff = 0;
  #callback: TransformCallback | null = null;
  #full = false;
  #pumping = false;

  /**
   * `options` may be a plan from {@link planChunker}, used as it is. `row` is a row buffer to fill instead of one
   * of its own (allocated on the first piece): several Chunkers run one after another can share one.
   */
  constructor(options: ChunkerOptions | ChunkerPlan, row?: RowBuffer) {
    const plan = isChunkerPlan(options) ? options : planChunker(options);
    if (row && (row.slabBytes !== plan.slabBytes || row.capacity < plan.rowBytes)) {
      throw invalid(`the row buffer given holds ${row.capacity} bytes in slabs of ${row.slabBytes}; this Chunker needs ${plan.rowBytes} in slabs of ${plan.slabBytes}`);
    }
    // A writable high-water mark of one byte: write() returns false after every piece, so a pipe pauses
    // instead of queueing pieces here, and the chunker holds one input piece at a time.
    super({ readableObjectMode: true, readableHighWaterMark: plan.readableHighWaterMark, writableHighWaterMark: 1 });
    this.plan = plan;
    this.#cursor = new RowCursor(plan);
    this.#row = row ?? null;
  }

  override _transform(piece: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const { inputBytes, slabBytes, rowBytes } = this.plan;
    if (this.#received + piece.length > inputBytes) {
      callback(inputSizeError(this.plan, this.#received + piece.length));
      return;
    }
    if (this.#row === null) {
      try {
        this.#row = new RowBuffer(slabBytes, rowBytes / slabBytes);
      } catch (error) {
        callback(error as Error);
        return;
      }
    }
    this.#received += piece.length;
    this.#piece = piece;
    this.#pieceOff = 0;
    this.#callback = callback;
    this.#pump();
  }

  override _read(size: number): void {
    this.#full = false;
    if (this.#pumping) return;
    if (this.#callback !== null) this.#pump();
    // Node's Transform holds the write callback we gave while the readable side was full; this releases it.
    else super._read(size);
  }

  override _flush(callback: TransformCallback): void {
    const { inputBytes } = this.plan;
    if (this.#received < inputBytes) {
      callback(inputSizeError(this.plan, this.#received));
      return;
    }
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#row = null;
    this.#piece = null;
    this.#callback = null;
    callback(error);
  }

  /** Moves the current piece into the row buffer and cuts completed rows; calls back once the piece is used up. */
  #pump(): void {
    this.#pumping = true;
    let done = false;
    try {
      done = this.#advance();
    } catch (error) {
      // A bug in extraction must still end the stream through its error path, never escape from write().
      const callback = this.#callback;
      this.#callback = null;
      this.#piece = null;
      if (callback) callback(error as Error);
      else this.destroy(error as Error);
    } finally {
      this.#pumping = false;
    }
    if (done) {
      const callback = this.#callback;
      this.#piece = null;
      this.#callback = null;
      callback?.();
    }
  }

  /** True when the piece is used up and its rows are all pushed; false when the readable side filled up first. */
  #advance(): boolean {
    const piece = this.#piece;
    const cursor = this.#cursor;
    for (;;) {
      // A consumer may destroy us from inside push(): the row is gone then, and so is the work.
      if (this.destroyed) return false;
      if (cursor.emitting && !this.#emit()) return false;
      if (piece === null || this.#pieceOff === piece.length) return true;
      const n = Math.min(cursor.missing, piece.length - this.#pieceOff);
      this.#row!.write(piece.subarray(this.#pieceOff, this.#pieceOff + n), cursor.filled);
      this.#pieceOff += n;
      if (cursor.fill(n) && this.plan.endian === 'big') this.#row!.swap(cursor.length, this.plan.elementSize);
    }
  }

  /**
   * Pushes the current row's chunks; false when the readable side filled up first. The cursor leaves the row as
   * its last chunk is handed out, so a `_read` that resumes us always has a chunk to push (Node waits for a push
   * after every `_read`).
   */
  #emit(): boolean {
    const cursor = this.#cursor;
    const z0 = cursor.z0;
    while (cursor.emitting) {
      if (this.#full) return false;
      if (!this.push(cutChunk(this.plan, this.#row!, z0, cursor.nextCut()))) this.#full = true;
    }
    return true;
  }
}
