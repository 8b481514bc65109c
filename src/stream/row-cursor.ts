/** The Chunker's place in the volume: the row filling, how far, and the chunks of a complete row still to leave. */
import type { ChunkCut } from '../core/layout.ts';
import type { ChunkerPlan } from './plan.ts';

/** Which row is filling, how far, and — once it is complete — which of its chunks are still to leave. */
export class RowCursor {
  readonly #plan: ChunkerPlan;
  /** The row filling (or being emitted). */
  row: number;
  /** Bytes that complete the row: shallower at the end of the range. */
  length = 0;
  filled = 0;
  /** The row's chunks once it is complete, and the next one to emit. */
  cuts: readonly ChunkCut[] | null = null;
  next = 0;

  constructor(plan: ChunkerPlan) {
    this.#plan = plan;
    this.row = plan.rows[0];
    this.#start();
  }

  /** File slab where the current row starts. */
  get z0(): number {
    return this.row * this.#plan.rowDepth;
  }

  /** The row is complete: its chunks are due. */
  complete(): void {
    this.cuts = this.#plan.layout.rowCuts(this.row);
    this.next = 0;
  }

  /** Every chunk of the row has left: on to the next row. */
  advance(): void {
    this.cuts = null;
    this.row++;
    this.#start();
  }

  #start(): void {
    const { rowDepth, zRange, slabBytes } = this.#plan;
    this.filled = 0;
    this.length = Math.max(0, Math.min(rowDepth, zRange[1] - this.z0)) * slabBytes;
  }
}
