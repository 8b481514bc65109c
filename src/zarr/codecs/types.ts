import type { ElementSize } from '../../core/dtype.ts';

/**
 * A bytes-to-bytes codec (Zarr v3 terms): turns one chunk's bytes into the bytes stored.
 * `encode` never mutates its input and does its heavy work off the main thread where it can.
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
