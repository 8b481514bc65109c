/**
 * The engine's memory budget: how many row buffers and threads fit in `--max-memory`. Pure; the estimates are
 * upper bounds measured on Node 20 (bench/RESULTS.md, "engine").
 */
import { invalid } from '../../core/errors.ts';

const MiB = 2 ** 20;
/** The main thread with its modules and codecs loaded. */
export const BASE_BYTES = 96 * MiB;
/** One worker thread's own heap and code, before any chunk. */
export const THREAD_BYTES = 12 * MiB;

export interface MemoryNeeds {
  /** Bytes of one row buffer (the deepest row of this run). */
  readonly rowBytes: number;
  /** Bytes of one chunk. */
  readonly chunkBytes: number;
  /** Bytes of one shard's chunks (sharded runs): a worker holds a whole shard until it is written. */
  readonly shardBytes?: number;
  /** Threads asked for. */
  readonly threads: number;
  /** Row buffers worth having: 2, or 1 when the run has too few rows to gain from a second. Default 2. */
  readonly rowBuffers?: 1 | 2;
  /** Chunks each thread keeps in flight. */
  readonly depth: number;
  readonly maxMemory: number;
  /** What each thread's reader of a TIFF or HDF5 input holds (its library, its decode buffers). Default 0. */
  readonly readerBytes?: number;
  /** The pyramid's levels after the first: a row each and their carried slabs. Default 0. */
  readonly levelBytes?: number;
  /**
   * What one thread's upload of a file to an object store buffers beyond the file itself: a shard joined into one
   * PUT's body, or the parts of a multipart upload in flight. Default 0 (a folder).
   */
  readonly uploadBytes?: number;
}

export interface MemoryPlan {
  /** 2: the next row is read while this one is encoded; 1: they take turns. */
  readonly rowBuffers: 1 | 2;
  readonly threads: number;
  /** The estimate of the run's peak: what was checked against the budget. */
  readonly bytes: number;
}

/**
 * One thread's peak: its chunks in flight, each with its encoded copy, the next one being cut, its chunk of fill
 * value (what empty chunks are compared with), the shard it is assembling and the parts of its upload in flight.
 */
export function threadBytes(n: MemoryNeeds): number {
  return THREAD_BYTES + (2 * n.depth + 2) * n.chunkBytes + 2 * (n.shardBytes ?? 0) + (n.readerBytes ?? 0) + (n.uploadBytes ?? 0);
}

/**
 * The most the budget allows: two row buffers with every thread asked for, else one row buffer with as many
 * threads as fit (at least one). EINVALID naming the budget that would fit when even one row and one thread do not.
 */
export function planMemory(n: MemoryNeeds): MemoryPlan {
  const per = threadBytes(n);
  const cost = (rows: number, threads: number) => BASE_BYTES + (n.levelBytes ?? 0) + rows * n.rowBytes + threads * per;
  if (n.rowBuffers !== 1 && cost(2, n.threads) <= n.maxMemory) return { rowBuffers: 2, threads: n.threads, bytes: cost(2, n.threads) };
  const threads = Math.min(n.threads, Math.floor((n.maxMemory - cost(1, 0)) / per));
  if (threads >= 1) return { rowBuffers: 1, threads, bytes: cost(1, threads) };
  const overlap = n.rowBuffers !== 1 ? `; ${formatBytes(cost(2, n.threads), Math.ceil)} reads the next row while one encodes` : '';
  const levels = n.levelBytes ? `, the pyramid's coarser rows (${formatBytes(n.levelBytes)})` : '';
  throw invalid(`--max-memory ${formatBytes(n.maxMemory, Math.floor)} cannot hold one row (${formatBytes(n.rowBytes)})${levels} and one thread's chunks in flight `
    + `(${formatBytes(per)}) besides the base (${formatBytes(BASE_BYTES)}); raise --max-memory to at least ${formatBytes(cost(1, 1), Math.ceil)}${overlap}, `
    + 'or use a smaller chunk (shard) depth');
}

/** Bytes as MiB or GiB with one decimal; a budget named as enough is rounded up, so that it is. */
export function formatBytes(bytes: number, round: (x: number) => number = Math.round): string {
  const [unit, name] = bytes >= 2 ** 30 ? [2 ** 30, 'GiB'] : [MiB, 'MiB'];
  return `${(round((bytes / unit) * 10) / 10).toFixed(1)} ${name}`;
}
