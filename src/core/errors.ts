/**
 * Every error slabchunk raises. `code` says what went wrong in a form scripts can switch on;
 * the message names the numbers involved and the fix.
 */
export type ErrorCode =
  /** An option or argument is invalid (shape, chunk, dtype, order, ...), or cannot be met (a row buffer too large). */
  | 'EINVALID'
  /** The input holds fewer or more bytes than the declared shape and dtype need. */
  | 'ESIZE'
  /** The output store exists, is not ours, or disagrees with the options. */
  | 'ESTORE'
  /** An encode or write of one chunk failed. */
  | 'EWRITE'
  /** The run was interrupted by a signal. */
  | 'EINTERRUPTED';

export interface SlabchunkErrorOptions {
  cause?: unknown;
  /** The chunk or store key the error concerns, when there is one. */
  key?: string;
  expected?: number | bigint | string;
  actual?: number | bigint | string;
}

export class SlabchunkError extends Error {
  override readonly name = 'SlabchunkError';
  readonly code: ErrorCode;
  readonly key?: string;
  readonly expected?: number | bigint | string;
  readonly actual?: number | bigint | string;

  constructor(code: ErrorCode, message: string, options: SlabchunkErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options.key !== undefined) this.key = options.key;
    if (options.expected !== undefined) this.expected = options.expected;
    if (options.actual !== undefined) this.actual = options.actual;
  }
}

/** Shorthand for a configuration error: raised before any data moves. */
export function invalid(message: string, options?: SlabchunkErrorOptions): SlabchunkError {
  return new SlabchunkError('EINVALID', message, options);
}
