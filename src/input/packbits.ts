/**
 * TIFF PackBits (Apple's run-length code), decoded into a buffer of known size. A header byte n of 0…127 copies
 * the next n + 1 bytes, −1…−127 repeats the next byte 1 − n times, and −128 is a no-op (geotiff's decoder takes
 * it for a run of 129 bytes).
 */

/** Decodes `input` into at most `capacity` bytes; throws when a run is cut off by the end of the input. */
export function decodePackBits(input: Uint8Array, capacity: number): Uint8Array {
  const out = new Uint8Array(capacity);
  let at = 0;
  let i = 0;
  while (i < input.length && at < capacity) {
    const header = (input[i++]! << 24) >> 24;
    if (header >= 0) {
      const n = header + 1;
      if (i + n > input.length) throw new Error('a PackBits literal run is cut off by the end of its strip: the file is damaged');
      out.set(input.subarray(i, i + Math.min(n, capacity - at)), at);
      at += n;
      i += n;
    } else if (header !== -128) {
      if (i >= input.length) throw new Error('a PackBits repeat run is cut off by the end of its strip: the file is damaged');
      const n = 1 - header;
      out.fill(input[i++]!, at, Math.min(capacity, at + n));
      at += n;
    }
  }
  return out.subarray(0, Math.min(at, capacity));
}
