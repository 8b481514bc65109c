import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SlabchunkError } from '../../src/core/errors.ts';
import { availableParallelism } from 'node:os';
import { resolveConvertOptions, CONVERT_OPTIONS } from '../../src/ops/options.ts';
import { parseFill, parseSize } from '../../src/ops/option-values.ts';
import { checkInputSize, expectedInputBytes, sizeHints } from '../../src/input/size.ts';

function rejects(fn: () => unknown, code: string, re: RegExp): void {
  try {
    fn();
  } catch (error) {
    assert.instance(error, SlabchunkError);
    assert.is((error as SlabchunkError).code, code);
    assert.match((error as Error).message, re);
    return;
  }
  assert.unreachable(`expected ${code} ${re}`);
}

test('defaults: uint8, 64³ clipped to the shape, zstd:3, v3, F input', () => {
  const o = resolveConvertOptions({ shape: [100, 30, 200] });
  assert.equal([o.dtype, o.chunk, o.codec, o.zarrFormat, o.inputOrder, o.endian, o.header, o.fill], ['uint8', [64, 30, 64], 'zstd:3', 3, 'F', 'little', 0, 0]);
  assert.is(o.writeEmptyChunks, false);
  // Resolved here, once, from the chunk size: 4 × cores while 256 MiB of such chunks fit in flight.
  assert.is(o.concurrency, Math.max(2, Math.min(4 * availableParallelism(), Math.floor(2 ** 28 / (64 * 30 * 64)))));
  assert.is(resolveConvertOptions({ shape: [1024, 1024, 1024], chunk: [512, 512, 512], dtype: 'uint16' }).concurrency, 2, 'at least 2, even for huge chunks');
});

test('CLI strings and API values parse to the same options', () => {
  const fromCli: Record<string, unknown> = {};
  const cli: Record<string, string | boolean> = { shape: '10,20,30', dtype: 'int16', chunk: '5,5,5', 'zarr-format': '2', 'input-order': 'C', endian: 'big', header: '512', fill: '-1', concurrency: '3', 'write-empty-chunks': true };
  for (const o of CONVERT_OPTIONS) if (cli[o.flag] !== undefined) fromCli[o.name] = o.parse(cli[o.flag], o.flag);
  const a = resolveConvertOptions(fromCli as never);
  const b = resolveConvertOptions({ shape: [10, 20, 30], dtype: 'int16', chunk: [5, 5, 5], zarrFormat: 2, inputOrder: 'C', endian: 'big', header: 512, fill: -1, concurrency: 3, writeEmptyChunks: true });
  assert.equal(a, b);
});

test('fill values: exact big integers, floats, NaN', () => {
  assert.is(parseFill('18446744073709551615'), 18446744073709551615n);
  assert.is(parseFill('-7'), -7);
  assert.is(parseFill('2.5e3'), 2500);
  assert.ok(Number.isNaN(parseFill('NaN') as number));
  rejects(() => parseFill('abc'), 'EINVALID', /fill must be a number/);
});

test('sizes: bytes or units', () => {
  assert.equal(['4096', '512MiB', '12GiB', '8G', '1.5kb'].map((s) => parseSize(s)), [4096, 512 * 2 ** 20, 12 * 2 ** 30, 8e9, 1500]);
  rejects(() => parseSize('12 parsecs'), 'EINVALID', /size must be a number of bytes or e\.g\. 512MiB/);
  rejects(() => parseSize('0'), 'EINVALID', /size must be/);
});

test('bad options name the option and the value', () => {
  rejects(() => resolveConvertOptions({} as never), 'EINVALID', /shape is required/);
  rejects(() => resolveConvertOptions({ shape: [1, 2] as never }), 'EINVALID', /shape must have 3 entries/);
  rejects(() => resolveConvertOptions({ shape: [1, 2, 3], dtype: 'uint12' as never }), 'EINVALID', /unknown dtype "uint12"; use one of bool/);
  rejects(() => resolveConvertOptions({ shape: [1, 2, 3], zarrFormat: 4 as never }), 'EINVALID', /zarr-format must be 2 or 3/);
  rejects(() => resolveConvertOptions({ shape: [1, 2, 3], inputOrder: 'X' as never }), 'EINVALID', /input-order must be C or F/);
  rejects(() => resolveConvertOptions({ shape: [1, 2, 3], header: -1 }), 'EINVALID', /header must be an integer ≥ 0/);
  rejects(() => resolveConvertOptions({ shape: [1, 2, 3], concurrency: 0 }), 'EINVALID', /concurrency must be an integer ≥ 1/);
  rejects(() => resolveConvertOptions({ shape: [8, 8, 8], shard: [8, 8, 8], zarrFormat: 2 }), 'EINVALID', /sharding needs Zarr v3/);
  // Combinations are checked once, here, before anything is opened.
  rejects(() => resolveConvertOptions({ shape: [8, 8, 8], dtype: 'uint16', fill: -1 }), 'EINVALID', /fill value -1 does not fit dtype uint16/);
  rejects(() => resolveConvertOptions({ shape: [8, 8, 8], codec: 'zstd+crc32c', zarrFormat: 2 }), 'EINVALID', /crc32c is a Zarr v3 codec/);
  rejects(() => resolveConvertOptions({ shape: [8, 8, 8], shardIndex: 'start' }), 'EINVALID', /--shard-index needs --shard/);
  rejects(() => resolveConvertOptions({ shape: [8, 8, 8], resume: true, overwrite: true }), 'EINVALID', /overwrite cannot be combined/);
});

test('input size: exact match passes, mismatches name both sizes and what would fit', () => {
  assert.is(expectedInputBytes([10, 20, 30], 'uint16', 100), 100 + 6000 * 2);
  checkInputSize('a.raw', 12100, [10, 20, 30], 'uint16', 100);
  // 2 bytes per voxel given as uint8: the hint offers the 2-byte dtypes.
  rejects(() => checkInputSize('a.raw', 12000, [10, 20, 30], 'uint8', 0), 'ESIZE', /a\.raw holds 12000 bytes, but shape 10×20×30 of uint8 needs 6000 bytes.*--dtype int16 or --dtype uint16/);
  // A shorter file: the depth that fits.
  rejects(() => checkInputSize('b.raw', 2000 * 2, [10, 20, 30], 'uint16', 0), 'ESIZE', /--shape 10,20,10/);
  // A few extra bytes: a header.
  assert.equal(sizeHints(6064, [10, 20, 30], 'uint8', 0), ['--header 64 (if the first 64 bytes are a header)']);
  // Nothing fits: the message says what to check.
  rejects(() => checkInputSize('c.raw', 7, [10, 20, 30], 'uint8', 0), 'ESIZE', /Check --shape, --dtype and --header/);
});

test.run();
