/**
 * How the readers of TIFF and HDF5 inputs cut planes into blocks, against the rules written out here (every line
 * covered once, bands of lines on stored blocks, chunks of planes kept whole, stream pieces contiguous); the
 * OME-XML and ImageJ plane maps; the bounded LZW and PackBits decoders; natural file order.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { decodeLzw } from '../../src/input/lzw.ts';
import { decodePackBits } from '../../src/input/packbits.ts';
import { slabBlocks } from '../../src/input/slabs.ts';
import { parseImageJ, parseOmeXml } from '../../src/input/tiff-meta.ts';
import { naturalCompare } from '../../src/input/tiff.ts';

test('slab blocks cover the planes once, keep to chunks of planes and to bands of lines, contiguous when asked', () => {
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 20 }),
    fc.integer({ min: 0, max: 19 }), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 4000 }), fc.integer({ min: 1, max: 6 }),
    fc.integer({ min: 1, max: 12 }), fc.boolean(),
    (x, y, z, a, n, size, planes, lines, contiguous) => {
      const z0 = Math.min(a, z - 1);
      const z1 = Math.min(z, z0 + n);
      const line = x * 2;
      const plane = line * y;
      const blocks = slabBlocks([x, y, z], 'uint16', z0, z1, size, { planes, lines }, contiguous);
      // Naive: count how often each line of each plane is covered.
      const covered = new Uint8Array(z * y);
      let previousEnd = z0 * plane;
      for (const b of blocks) {
        assert.ok(b.z0 >= z0 && b.z1 <= z1 && b.z0 < b.z1 && b.y0 >= 0 && b.y1 <= y && b.y0 < b.y1, 'inside the range, not empty');
        for (let k = b.z0; k < b.z1; k++) for (let l = b.y0; l < b.y1; l++) covered[k * y + l]!++;
        const whole = b.y0 === 0 && b.y1 === y;
        if (!whole) {
          assert.is(b.y0 % Math.min(lines, y), 0, 'a band starts on a block of lines');
          assert.ok(b.y1 % Math.min(lines, y) === 0 || b.y1 === y, 'and ends on one, or at the plane\'s end');
        }
        if (contiguous) {
          assert.ok(whole || b.z1 - b.z0 === 1, 'contiguous: whole planes, or lines of one plane');
          assert.is(b.z0 * plane + b.y0 * line, previousEnd, 'contiguous: in volume order');
          previousEnd = (b.z1 - 1) * plane + b.y1 * line;
        }
        if (planes > 1 && planes * plane <= 256 * 2 ** 20) {
          // A chunk of planes inside the range is never split in z between blocks.
          for (let c = Math.ceil(z0 / planes) * planes; c + planes <= z1; c += planes) {
            assert.ok((b.z0 <= c && c + planes <= b.z1) || b.z1 <= c || c + planes <= b.z0, `chunk at plane ${c} whole in z`);
          }
        }
      }
      for (let k = 0; k < z; k++) for (let l = 0; l < y; l++) assert.is(covered[k * y + l], k >= z0 && k < z1 ? 1 : 0, `line ${l} of plane ${k} once`);
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
  assert.equal(layout.plane, { width: 4, height: 3, type: 'uint16' }, 'what a plane is, to check the pages against');
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

test('PackBits: literal runs, repeat runs, the −128 no-op; clipped to the capacity; a cut-off run is an error', () => {
  // 2 literals (header 1), −128 (no-op), 4 × 0x07 (header −3), 1 literal (header 0).
  const input = Uint8Array.from([1, 0xaa, 0xbb, 0x80, 0xfd, 0x07, 0, 0xcc]);
  assert.equal([...decodePackBits(input, 100)], [0xaa, 0xbb, 7, 7, 7, 7, 0xcc]);
  assert.equal([...decodePackBits(input, 4)], [0xaa, 0xbb, 7, 7]);
  assert.throws(() => decodePackBits(Uint8Array.from([5, 1, 2]), 100), /cut off/);
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 1, max: 2000 }), (bytes, capacity) => {
    try {
      assert.ok(decodePackBits(bytes, capacity).length <= capacity);
    } catch (error) {
      assert.match((error as Error).message, /PackBits/);
    }
  }), { numRuns: 1000 });
});

test('natural order: digit runs compare as numbers', () => {
  const names = ['s_10.tif', 's_2.tif', 's_1.tif', 's_01.tif', 'a.tif', 's_100.tif', 's_9b.tif', 's_9a.tif'];
  assert.equal([...names].sort(naturalCompare), ['a.tif', 's_1.tif', 's_01.tif', 's_2.tif', 's_9a.tif', 's_9b.tif', 's_10.tif', 's_100.tif']);
});

test.run();
