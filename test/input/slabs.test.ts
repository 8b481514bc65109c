/**
 * How the readers of TIFF and HDF5 inputs cut a range of planes into pieces, against the rules written out here:
 * pieces tile the range in order; a piece is whole planes or whole lines of one plane, runs of lines keep to blocks
 * (strips, chunk rows); aligned pieces never split a chunk of planes that the range holds whole; and the OME-XML / ImageJ plane maps pick the pages the spec says.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { decodeLzw } from '../../src/input/lzw.ts';
import { slabPieces } from '../../src/input/slabs.ts';
import { parseImageJ, parseOmeXml } from '../../src/input/tiff-meta.ts';
import { naturalCompare } from '../../src/input/tiff.ts';

test('slab pieces tile the range in order, as whole planes or lines of one plane, chunks of planes kept whole', () => {
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 20 }),
    fc.integer({ min: 0, max: 19 }), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 4000 }), fc.integer({ min: 1, max: 6 }),
    fc.integer({ min: 1, max: 12 }),
    (x, y, z, a, n, size, align, lines) => {
      const z0 = Math.min(a, z - 1);
      const z1 = Math.min(z, z0 + n);
      const line = x * 2;
      const plane = line * y;
      const pieces = slabPieces([x, y, z], 'uint16', z0 * plane, z1 * plane, size, { planes: align, lines });
      let at = z0 * plane;
      for (const [s, e] of pieces) {
        assert.is(s, at, 'contiguous');
        assert.ok(e > s, 'not empty');
        assert.is((e - s) % line, 0, 'whole lines');
        const wholePlanes = s % plane === 0 && e % plane === 0;
        const onePlane = Math.floor(s / plane) === Math.floor((e - 1) / plane);
        assert.ok(wholePlanes || onePlane, 'whole planes, or lines of one plane');
        if (!wholePlanes) {
          // A run of lines starts and ends on a block of `lines` lines (or the plane's end).
          const y0 = (s % plane) / line;
          const y1 = ((e - 1) % plane + 1) / line;
          assert.is(y0 % lines, 0, 'starts on a block');
          assert.ok(y1 % lines === 0 || y1 === y, 'ends on a block or the plane');
        }
        if (align > 1) {
          assert.ok(wholePlanes, 'aligned pieces are whole planes');
          // A chunk of planes inside the range is never split between pieces.
          for (let c = Math.ceil(z0 / align) * align; c + align <= z1; c += align) {
            const inside = s / plane <= c && c + align <= e / plane;
            const outside = e / plane <= c || c + align <= s / plane;
            assert.ok(inside || outside, `chunk at plane ${c} whole`);
          }
        }
        at = e;
      }
      assert.is(at, z1 * plane, 'the range covered');
    },
  ), { numRuns: 500 });
});

test('OME-XML: DimensionOrder and TiffData map planes to pages; units are made one', () => {
  const xml = (order: string, tiffData = '') => `<?xml version="1.0"?><OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06"><Image ID="Image:0"><Pixels DimensionOrder="${order}" SizeX="4" SizeY="3" SizeZ="5" SizeC="2" SizeT="3" Type="uint16" PhysicalSizeX="400" PhysicalSizeXUnit="nm" PhysicalSizeY="0.4" PhysicalSizeZ="2">${tiffData}</Pixels></Image></OME>`;
  // Naive: the plane index in DimensionOrder, axis by axis, fastest first.
  for (const order of ['XYZCT', 'XYZTC', 'XYCZT', 'XYCTZ', 'XYTZC', 'XYTCZ']) {
    const layout = parseOmeXml(xml(order), 'f.ome.tif');
    const sizes: Record<string, number> = { Z: 5, C: 2, T: 3 };
    for (let z = 0; z < 5; z++) for (let c = 0; c < 2; c++) for (let t = 0; t < 3; t++) {
      const at: Record<string, number> = { Z: z, C: c, T: t };
      let index = 0;
      for (const axis of order.slice(2).split('').reverse()) index = index * sizes[axis]! + at[axis]!;
      assert.is(layout.pageOf(z, c, t), index, `${order} z${z} c${c} t${t}`);
    }
  }
  const layout = parseOmeXml(xml('XYZCT'), 'f.ome.tif');
  assert.equal(layout.voxelSize, [400, 400, 2000], 'µm (the default unit) converted to nm, the unit of x');
  assert.is(layout.unit, 'nm', 'x gives the unit');
  // Explicit TiffData: planes from FirstZ/FirstC/FirstT on, PlaneCount of them, from IFD on.
  const mapped = parseOmeXml(xml('XYZCT', '<TiffData IFD="10" FirstZ="0" FirstC="1" FirstT="2" PlaneCount="5"/>'), 'f.ome.tif');
  for (let z = 0; z < 5; z++) assert.is(mapped.pageOf(z, 1, 2), 10 + z);
  assert.is(mapped.pageOf(0, 0, 0), -1, 'a plane no TiffData maps');
  const other = parseOmeXml(xml('XYZCT', '<TiffData><UUID FileName="g.ome.tif">urn:uuid:1</UUID></TiffData>'), 'f.ome.tif');
  assert.equal(other.otherFiles, ['g.ome.tif']);
  // Renamed: the FileName names no file beside this one, so it is this file.
  const renamed = parseOmeXml(xml('XYZCT', '<TiffData PlaneCount="30"><UUID FileName="g.ome.tif">urn:uuid:1</UUID></TiffData>'), 'f.ome.tif', () => true);
  assert.is(renamed.otherFiles, undefined);
  assert.is(renamed.pageOf(4, 1, 2), 4 + 5 * (1 + 2 * 2));
});

test('ImageJ hyperstacks order planes channel fastest, then z, then time', () => {
  const layout = parseImageJ('ImageJ=1.11a\nimages=24\nchannels=2\nslices=4\nframes=3\nhyperstack=true\n');
  assert.equal([layout.sizeZ, layout.sizeC, layout.sizeT], [4, 2, 3]);
  assert.is(layout.pageOf(3, 1, 2), 1 + 2 * (3 + 4 * 2));
  assert.is(parseImageJ('ImageJ=1.11a\nimages=7\n').sizeZ, 7, 'a plain stack: images are z');
});

test('LZW: any bytes end in a result no longer than asked, or an error; never a hang', () => {
  fc.assert(fc.property(fc.uint8Array({ minLength: 0, maxLength: 600 }), fc.integer({ min: 1, max: 5000 }), (bytes, capacity) => {
    // New-style LZW starts with a clear code; half the cases get one, so decoding goes past the first code.
    const input = bytes.length > 1 && bytes[0]! % 2 === 0 ? Uint8Array.from([0x80, ...bytes]) : bytes;
    try {
      assert.ok(decodeLzw(input, capacity).length <= capacity);
    } catch (error) {
      assert.match((error as Error).message, /LZW|damaged/);
    }
  }), { numRuns: 2000 });
});

test('LZW: a hand-encoded string (clear, codes of 9 bits, a code defined by its own use, end)', () => {
  // "ABABABA": A B <AB=258> <ABA=260, the KwKwK case> then END; codes 256 65 66 258 260 257, 9 bits each.
  const codes = [256, 65, 66, 258, 260, 257];
  let bits = '';
  for (const c of codes) bits += c.toString(2).padStart(9, '0');
  bits = bits.padEnd(Math.ceil(bits.length / 8) * 8, '0');
  const input = Uint8Array.from(bits.match(/.{8}/g)!.map((b) => parseInt(b, 2)));
  assert.is(Buffer.from(decodeLzw(input, 100)).toString('latin1'), 'ABABABA');
  assert.is(Buffer.from(decodeLzw(input, 4)).toString('latin1'), 'ABAB', 'clipped to the capacity');
});

test('natural order: digit runs compare as numbers', () => {
  const names = ['s_10.tif', 's_2.tif', 's_1.tif', 's_01.tif', 'a.tif', 's_100.tif', 's_9b.tif', 's_9a.tif'];
  assert.equal([...names].sort(naturalCompare), ['a.tif', 's_1.tif', 's_01.tif', 's_2.tif', 's_9a.tif', 's_9b.tif', 's_10.tif', 's_100.tif']);
});

test.run();
