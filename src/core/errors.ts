/**
 * Every error slabchunk raises. `code` says what went wrong in a form scripts can switch on; the message names
 * the numbers involved, the place (file, chunk key) and the fix. Configuration errors (`EINVALID`, `ESIZE` found
 * before reading, `ESTORE`) are raised before anything is written; the others are faults of a running job.
 */
export type ErrorCode =
  /** An option or argument is invalid (shape, chunk, dtype, order, ...), or cannot be met (a row too large). */
  | 'EINVALID'
  /** The input holds fewer or more bytes than the declared shape and dtype need. */
  | 'ESIZE'
  /** The output store exists, is not ours, or disagrees with the options. */
  | 'ESTORE'
  /** Reading failed: the input, a store's metadata or one of its chunks. */
  | 'EREAD'
  /** An encode or write failed. */
  | 'EWRITE'
  /** A buffer the run needs could not be allocated. */
  | 'EMEMORY'
  /** A stream building block was fed records it cannot take (outside the grid, the wrong size, shards cut short). */
  | 'ERECORD'
  /** The run was interrupted by a signal. */
  | 'EINTERRUPTED';

export interface SlabchunkErrorOptions {
  cause?: unknown;
  /** The chunk or store key (or file) the error concerns, when there is one. */
  key?: string;
  expected?: number | bigint | string;
  actual?: number | bigint | string;
  /** The run failed but kept what it finished: the same command with `--resume` continues it. */
  resumable?: boolean;
}

export class SlabchunkError extends Error {
  override readonly name = 'SlabchunkError';
  readonly code: ErrorCode;
  readonly key?: string;
  readonly expected?: number | bigint | string;
  readonly actual?: number | bigint | string;
  /** The run failed but kept what it finished: the same command with `--resume` continues it. */
  readonly resumable?: boolean;

  constructor(code: ErrorCode, message: string, options: SlabchunkErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options.key !== undefined) this.key = options.key;
    if (options.expected !== undefined) this.expected = options.expected;
    if (options.actual !== undefined) this.actual = options.actual;
    if (options.resumable) this.resumable = true;
  }
}

/** Shorthand for a configuration error: raised before any data moves. */
export function invalid(message: string, options?: SlabchunkErrorOptions): SlabchunkError {
  return new SlabchunkError('EINVALID', message, options);
}

/** The message of anything thrown, for wrapping it into a message of our own. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * `error` as a SlabchunkError: itself when it already is one, else wrapped with `code` and `context` (which says
 * where, e.g. "could not read c/0/1/2 in brain.zarr") and the original as `cause`.
 */
export function wrapError(error: unknown, code: ErrorCode, context: string, options: Omit<SlabchunkErrorOptions, 'cause'> = {}): SlabchunkError {
  if (error instanceof SlabchunkError) return error;
  return new SlabchunkError(code, `${context}: ${messageOf(error)}`, { ...options, cause: error });
}

/**
 * `error` with `place` (a file, a chunk key, a shard) in front of its message and its causes' messages: a new
 * SlabchunkError, keeping the code of one. For errors raised where the place is not known (a codec, a checksum).
 */
export function errorAt(error: unknown, code: ErrorCode, place: string, options: Omit<SlabchunkErrorOptions, 'cause'> = {}): SlabchunkError {
  const messages: string[] = [];
  for (let e: unknown = error; e !== undefined && messages.length < 4; e = (e as { cause?: unknown }).cause) {
    const message = messageOf(e);
    // A library's wrapper around one of our errors ("Failed to decode chunk via …") adds nothing to it.
    const wrapsOurs = !(e instanceof SlabchunkError) && (e as { cause?: unknown }).cause instanceof SlabchunkError;
    if (!wrapsOurs && !messages.some((m) => m.includes(message))) messages.push(message);
    if (!(e instanceof Error)) break;
  }
  return new SlabchunkError(error instanceof SlabchunkError ? error.code : code, `${place}: ${messages.join(': ')}`, { ...options, cause: error });
}

/** True for a filesystem error meaning "no such file or directory". */
export function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}
