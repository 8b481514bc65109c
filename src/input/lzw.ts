/**
 * TIFF's LZW (codes of 9–12 bits, most significant bit first, the code width growing one code early), decoded
 * into a buffer of known size. geotiff's decoder loops without end on a damaged strip until V8 aborts the process;
 * this one stops at the expected size and refuses a code that cannot occur.
 */
const CLEAR = 256;
const END = 257;
const FIRST = 258;
const MAX_CODES = 4096;

/** Decodes `input` into at most `capacity` bytes; returns the bytes decoded. Throws on a code that cannot occur. */
export function decodeLzw(input: Uint8Array, capacity: number): Uint8Array {
  const out = new Uint8Array(capacity);
  const prefix = new Int32Array(MAX_CODES);
  const last = new Uint8Array(MAX_CODES);
  const first = new Uint8Array(MAX_CODES);
  const length = new Uint32Array(MAX_CODES);
  for (let i = 0; i < 256; i++) {
    prefix[i] = -1;
    last[i] = i;
    first[i] = i;
    length[i] = 1;
  }
  if (input.length >= 2 && input[0] === 0 && (input[1]! & 1) === 1) {
    throw new Error('the strip uses old-style (pre-TIFF 6) LZW, which slabchunk does not decode; rewrite it with tiffcp -c lzw');
  }
  let next = FIRST;
  let width = 9;
  let previous = -1;
  let at = 0;
  let bits = 0;
  let held = 0;
  let pos = 0;
  while (at < capacity) {
    while (held < width && pos < input.length) {
      bits = ((bits << 8) | input[pos++]!) >>> 0;
      held += 8;
    }
    if (held < width) break;
    const code = (bits >>> (held - width)) & ((1 << width) - 1);
    held -= width;
    bits &= (1 << held) - 1;
    if (code === END) break;
    if (code === CLEAR) {
      next = FIRST;
      width = 9;
      previous = -1;
      continue;
    }
    if (previous === -1) {
      if (code > 255) throw new Error(`LZW code ${code} right after a clear code: the strip is damaged`);
      out[at++] = code;
      previous = code;
      continue;
    }
    let emit: number;
    let head: number;
    if (code < next) {
      emit = code;
      head = first[code]!;
    } else if (code === next) {
      // The one code not yet in the table: the previous string and its own first byte.
      emit = previous;
      head = first[previous]!;
    } else {
      throw new Error(`LZW code ${code} is past the table's end (${next}): the strip is damaged`);
    }
    // Write `emit`'s string backwards from its end, clipped to the buffer.
    const n = length[emit]!;
    let k = emit;
    for (let i = n - 1; i >= 0; i--) {
      if (at + i < capacity) out[at + i] = last[k]!;
      k = prefix[k]!;
    }
    at += n;
    if (code === next && at < capacity) out[at] = head;
    if (code === next) at++;
    if (next < MAX_CODES) {
      prefix[next] = previous;
      last[next] = head;
      first[next] = first[previous]!;
      length[next] = length[previous]! + 1;
      next++;
      if (next + 1 >= 1 << width && width < 12) width++;
    }
    previous = code;
  }
  return out.subarray(0, Math.min(at, capacity));
}
