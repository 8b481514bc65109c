/** The Chunker's place in the volume: the row filling, how far, and the chunks of a complete row still to leave. */
import type { ChunkCut } from '../core/layout.ts';
import type { ChunkerPlan } from './plan.ts';

export class RowCursor {
  readonly #plan: ChunkerPlan;
  #row: number;
  #length = 0;
  #filled = 0;
  #cuts: readonly ChunkCut[] | null = null;
  #next = 0;

  constructor(plan: ChunkerPlan) {
    this.#plan = plan;
    this.#row = plan.rows[0];
    this.#start();
  }

  /** File slab where the current row starts. */
  get z0(): number {
    return this.#row * this.#plan.rowDepth;
  }

  /** Bytes of the row already in: where the next input bytes go (row-relative). */
  get filled(): number {
    return this.#filled;
  }

  /** Bytes the row still needs (the last row of the range may be shallower). */
  get missing(): number {
    return this.#length - this.#filled;
  }

  /** The row's size in bytes (the last row of the range may be shallower): what a byte swap covers. */
  get length(): number {
    return this.#length;
  }

  /** Counts `n` more bytes in; true when that completes the row, whose chunks are then due. */
  fill(n: number): boolean {
    this.#filled += n;
    if (this.#filled < this.#length) return false;
    this.#cuts = this.#plan.layout.rowCuts(this.#row);
    this.#next = 0;
    return true;
  }

  /** True while a complete row still has chunks to emit. */
  get emitting(): boolean {
    return this.#cuts !== null;
  }

  /** The next chunk of the complete row; handing out its last one moves the cursor on to the next row. */
  nextCut(): ChunkCut {
    const cuts = this.#cuts!;
    const cut = cuts[this.#next++]!;
    if (this.#next === cuts.length) {
      this.#cuts = null;
      this.#row++;
      this.#start();
    }
    return cut;
  }

  #start(): void {
    const { rowDepth, zRange, slabBytes } = this.#plan;
    this.#filled = 0;
    this.#length = Math.max(0, Math.min(rowDepth, zRange[1] - this.z0)) * slabBytes;
  }
}
