import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { SlabchunkError } from '../../../src/core/errors.ts';
import { formatCodec, parseCodec, type CodecSpec } from '../../../src/zarr/codecs/index.ts';

// ---- codec strings: the registry dispatches to each compressor's own parser ----

test('parseCodec: the grammar, defaults and canonical form', () => {
  const cases: [string, string][] = [
    ['raw', 'raw'], ['gzip', 'gzip:5'], ['gzip:9', 'gzip:9'], ['zstd', 'zstd:3'], ['ZSTD:-5', 'zstd:-5'],
    ['zstd:19+crc32c', 'zstd:19+crc32c'], ['raw+crc32c', 'raw+crc32c'], ['blosc', 'blosc:zstd:5:shuffle'],
    ['blosc:zlib', 'blosc:zlib:5:shuffle'], ['blosc:zstd:9:bitshuffle', 'blosc:zstd:9:bitshuffle'], ['blosc::1:noshuffle', 'blosc:zstd:1:noshuffle'],
    ['zstd:3:checksum', 'zstd:3:checksum'], ['zstd:checksum', 'zstd:3:checksum'], ['zstd:-1:checksum+crc32c', 'zstd:-1:checksum+crc32c'],
  ];
  for (const [text, canonical] of cases) assert.is(formatCodec(parseCodec(text)), canonical, text);
});

test('parseCodec: clear EINVALID errors', () => {
  const cases: [string, RegExp][] = [
    ['', /raw \| gzip/], ['lz4', /unknown codec "lz4"/], ['gzip:10', /gzip level must be an integer from 0 to 9/],
    ['gzip:x', /gzip level/], ['zstd:23', /zstd level/], ['raw:1', /too many parts/], ['blosc:lz4', /blosc compressor lz4 is not available/],
    ['blosc:foo', /unknown blosc compressor/], ['blosc:zstd:5:byteshuffle', /unknown blosc shuffle/], ['zstd+md5', /unknown codec flag \+md5/],
    ['blosc:zstd:10', /blosc level/], ['zstd:3:5', /zstd takes a level and the word checksum/],
    ['zstd:checksum:3', /zstd takes a level/], ['zstd:3:checksum:x', /too many parts/],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseCodec(text), (e: SlabchunkError) => e instanceof SlabchunkError && e.code === 'EINVALID' && message.test(e.message), text);
  }
});

test('formatCodec and parseCodec are inverse (property)', () => {
  const spec: fc.Arbitrary<CodecSpec> = fc.record({
    compressor: fc.oneof(
      fc.constant({ name: 'raw' as const }),
      fc.record({ name: fc.constant('gzip' as const), level: fc.integer({ min: 0, max: 9 }) }),
      fc.record({ name: fc.constant('zstd' as const), level: fc.integer({ min: -131072, max: 22 }), checksum: fc.boolean() }),
      fc.record({
        name: fc.constant('blosc' as const), cname: fc.constantFrom('zstd' as const, 'zlib' as const),
        clevel: fc.integer({ min: 0, max: 9 }), shuffle: fc.constantFrom('noshuffle' as const, 'shuffle' as const, 'bitshuffle' as const),
      }),
    ),
    crc32c: fc.boolean(),
  });
  // fast-check builds null-prototype records; compare plain copies
  fc.assert(fc.property(spec, (s) => { assert.equal(parseCodec(formatCodec(s)), { compressor: { ...s.compressor }, crc32c: s.crc32c }); }));
});

test.run();
