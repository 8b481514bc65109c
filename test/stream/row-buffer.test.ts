import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { constants as bufferConstants } from 'node:buffer';
import { RowBuffer } from '../../src/stream/row-buffer.ts';

/** The row's bytes read back through `locate`, slab by slab: what the cut sees. */
function readBack(row: RowBuffer, slabs: number): Buffer {
  const out: Buffer[] = [];
  for (let z = 0; z < slabs; z++) {
    const { band, slab } = row.locate(z);
    out.push(band.subarray(slab * row.slabBytes, (slab + 1) * row.slabBytes));
  }
  return Buffer.concat(out);
}

test('property: pieces written at any offsets across bands read back as the row, whole slabs per band', () => {
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 100 }),
    (slabBytes, slabs, bandSlabs, piece) => {
      const row = new RowBuffer(slabBytes, slabs, slabBytes * bandSlabs + (slabBytes - 1));
      assert.is(row.bandSlabs, Math.min(slabs, bandSlabs), 'a band holds whole slabs only');
      assert.is(row.bands.reduce((n, b) => n + b.length, 0), slabBytes * slabs);
      const bytes = Buffer.from(Array.from({ length: slabBytes * slabs }, (_, i) => (i * 7 + 3) & 0xff));
      for (let at = 0; at < bytes.length; at += piece) row.write(bytes.subarray(at, at + piece), at);
      assert.ok(readBack(row, slabs).equals(bytes));
      for (let z = 0; z < slabs; z++) assert.is(row.locate(z).slabs, row.bandSlabs - (z % row.bandSlabs), 'slabs left in the band');
      return true;
    },
  ));
});

test('swap reverses the bytes of every element of the first `length` bytes, across bands, and leaves the rest', () => {
  for (const size of [2, 4, 8] as const) {
    const slabBytes = size * 3;
    const row = new RowBuffer(slabBytes, 5, slabBytes * 2);
    const bytes = Buffer.from(Array.from({ length: slabBytes * 5 }, (_, i) => i));
    row.write(bytes, 0);
    row.swap(slabBytes * 4, size);
    const want = Buffer.from(bytes);
    for (let e = 0; e < (slabBytes * 4) / size; e++) want.subarray(e * size, (e + 1) * size).reverse();
    assert.ok(readBack(row, 5).equals(want), `${size}-byte elements`);
  }
});

test('a row that cannot be allocated is EMEMORY naming its size', () => {
  // A band past the largest Buffer fails at once, as a machine without the memory would.
  const slab = bufferConstants.MAX_LENGTH + 1;
  assert.throws(() => new RowBuffer(slab, 1, slab), (e: Error & { code?: string }) => e.code === 'EMEMORY' && /cannot allocate a row buffer of \d+ bytes/.test(e.message));
});

test.run();
