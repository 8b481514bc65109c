/**
 * Checksums are checked on every read: a byte flipped in a chunk or a shard index of a store written with
 * `+crc32c` or `zstd:L:checksum` makes `verify`, `export`, `info` (shard indexes) and the library reader fail,
 * naming the chunk key (and the shard). The same stores read back clean before the flip, so the checks are not
 * simply failing everything. Byte ranges of inner chunks come from a shard index parsed here, by hand.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { volumeBuffer } from '../../bench/lib/volume.ts';
import { SlabchunkError } from '../../src/core/errors.ts';
import { convert } from '../../src/ops/convert.ts';
import { exportStore } from '../../src/ops/export.ts';
import { inspectStore } from '../../src/ops/inspect.ts';
import { verifyStore } from '../../src/ops/verify.ts';
import { openStore, readChunkBytes } from '../../src/zarr/reader.ts';
import { slabchunk } from '../lib/cli.ts';

const integrity = suite('integrity');
let dir = '';
let input = '';
const SHAPE = [32, 24, 20] as const;
integrity.before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'slabchunk-integrity-'));
  input = path.join(dir, 'vol.raw');
  fs.writeFileSync(input, volumeBuffer([...SHAPE], 'uint16', 17));
});
integrity.after(() => fs.rmSync(dir, { recursive: true, force: true }));

const CODECS = ['raw+crc32c', 'gzip:5+crc32c', 'zstd:3+crc32c', 'blosc:zstd:5:shuffle+crc32c', 'zstd:3:checksum', 'zstd:1:checksum+crc32c'];

/** Chunk (or shard) files of a store, as store keys. */
function chunkFiles(store: string): string[] {
  return (fs.readdirSync(store, { recursive: true }) as string[])
    .filter((rel) => !rel.startsWith('.') && fs.statSync(path.join(store, rel)).isFile() && !/(^|\/)(zarr\.json|\.z\w+)$/.test(rel))
    .map((rel) => rel.split(path.sep).join('/')).sort();
}

function flip(file: string, at: number): void {
  const bytes = fs.readFileSync(file);
  bytes[at]! ^= 0x5a;
  fs.writeFileSync(file, bytes);
}

/** The (offset, nbytes) pairs of a shard's index at its end, read naively: n × 16 bytes then a 4-byte CRC32C. */
function innerRanges(shard: Buffer, n: number): ({ offset: number; nbytes: number } | undefined)[] {
  const at = shard.length - (16 * n + 4);
  return Array.from({ length: n }, (_, i) => {
    const offset = shard.readBigUInt64LE(at + 16 * i);
    return offset === 0xffff_ffff_ffff_ffffn ? undefined : { offset: Number(offset), nbytes: Number(shard.readBigUInt64LE(at + 16 * i + 8)) };
  });
}

const escaped = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function rejection(promise: Promise<unknown>): Promise<SlabchunkError> {
  const error = await promise.then(() => null, (e: unknown) => e);
  assert.instance(error, SlabchunkError);
  return error as SlabchunkError;
}

/** Every way to read `store` fails naming `key` (and `message`); export leaves no output file. */
async function assertDamaged(store: string, keys: RegExp, message: RegExp, label: string): Promise<void> {
  const { damaged, differing } = await verifyStore(input, store);
  assert.equal(differing, [], label);
  assert.ok(damaged.length > 0, `${label}: verify found nothing`);
  for (const d of damaged) {
    assert.match(d.key, keys, label);
    assert.match(d.message, message, `${label}: ${d.message}`);
  }
  const viaCli = await slabchunk(['verify', input, store]);
  assert.is(viaCli.code, 1, label);
  assert.match(viaCli.stderr, /is damaged: \d+ chunks? cannot be read back/, label);
  const exported = await rejection(exportStore(store, fs.createWriteStream(path.join(dir, 'out.raw'))));
  assert.is(exported.code, 'EREAD', label);
  assert.match(exported.key!, keys, label);
  const out = path.join(dir, 'cli-out.raw');
  const cliExport = await slabchunk(['export', store, out]);
  assert.is(cliExport.code, 1, label);
  assert.match(cliExport.stderr, message, `${label}: ${cliExport.stderr}`);
  assert.not.ok(fs.existsSync(out), `${label}: export left a partial output`);
  const opened = await openStore(store);
  const [x, y, z] = damaged[0]!.key.replace(/^c\//, '').split(/[/ ]/).map(Number);
  if (!damaged[0]!.key.includes('inner')) {
    // Stored axes are z, y, x: the key's numbers are the volume's grid coordinates reversed.
    const read = await rejection(readChunkBytes(opened, [z!, y!, x!]));
    assert.is(read.key, damaged[0]!.key, label);
  }
}

for (const codec of CODECS) {
  integrity(`${codec}: a flipped byte in a chunk is found by verify, export and the reader, naming the key`, async () => {
    const store = path.join(dir, `chunks-${codec}.zarr`);
    await convert(input, store, { shape: [...SHAPE], dtype: 'uint16', chunk: [8, 8, 8], codec });
    assert.equal((await verifyStore(input, store)).damaged, [], 'a clean store reads back clean');
    const files = chunkFiles(store);
    const key = files[Math.floor(files.length / 2)]!;
    const file = path.join(store, key);
    flip(file, Math.floor(fs.statSync(file).size / 2));
    // Without +crc32c, zstd finds the flip: a frame that no longer decodes, or content that fails its checksum.
    const reason = codec.includes('crc32c') ? 'the chunk fails its CRC32C check \\(stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\\)' : 'zstd codec error: ';
    await assertDamaged(store, new RegExp(`^${key}$`), new RegExp(`chunk ${key} of ${escaped(store)}: .*(${reason})`), codec);
  });

  integrity(`${codec}, sharded: a flipped byte in an inner chunk names the shard and the inner chunk; one in the index fails info too`, async () => {
    const store = path.join(dir, `shards-${codec}.zarr`);
    await convert(input, store, { shape: [...SHAPE], dtype: 'uint16', chunk: [8, 8, 4], shard: [16, 16, 8], codec });
    assert.is((await inspectStore(store)).filesPresent, 12, 'info reads every index clean');
    const [shardKey] = chunkFiles(store);
    const file = path.join(store, shardKey!);
    const bytes = fs.readFileSync(file);
    const ranges = innerRanges(bytes, 2 * 2 * 2);
    const inner = ranges.findIndex((r) => r !== undefined);
    // Inner chunks in C order over the shard's (z, y, x) grid of 2 × 2 × 2.
    const innerKey = [inner >> 2, (inner >> 1) & 1, inner & 1].join('/');
    flip(file, ranges[inner]!.offset + (ranges[inner]!.nbytes >> 1));
    await assertDamaged(store, new RegExp(`^${shardKey} inner ${innerKey}$`), new RegExp(`chunk ${shardKey} inner ${innerKey} of `), `${codec} inner`);
    // Restored, then a byte of the index itself (the 9th of its last entry's offset).
    fs.writeFileSync(file, bytes);
    assert.equal((await verifyStore(input, store)).damaged, [], 'restored');
    flip(file, bytes.length - 4 - 16 + 1);
    await assertDamaged(store, new RegExp(`^${shardKey} inner \\d/\\d/\\d$`), /the shard index fails its CRC32C check/, `${codec} index`);
    const info = await slabchunk(['info', store]);
    assert.is(info.code, 1);
    assert.match(info.stderr, new RegExp(`shard ${shardKey} of .*: the shard index fails its CRC32C check`));
  });
}

integrity('v2 zstd:3:checksum: a flipped byte is found, naming the key (v2 has no crc32c)', async () => {
  const store = path.join(dir, 'v2.zarr');
  await convert(input, store, { shape: [...SHAPE], dtype: 'uint16', chunk: [8, 8, 8], codec: 'zstd:3:checksum', zarrFormat: 2 });
  const key = chunkFiles(store)[3]!;
  const file = path.join(store, key);
  // The frame's last byte: its checksum.
  flip(file, fs.statSync(file).size - 1);
  await assertDamaged(store, new RegExp(`^${key}$`), /checksum/, 'v2');
});

integrity('a truncated or empty chunk, and a shard shorter than its index, are named as such', async () => {
  const store = path.join(dir, 'short.zarr');
  await convert(input, store, { shape: [...SHAPE], dtype: 'uint16', chunk: [8, 8, 8], codec: 'raw' });
  const [first, second] = chunkFiles(store);
  fs.truncateSync(path.join(store, first!), 100);
  fs.writeFileSync(path.join(store, second!), '');
  const { damaged } = await verifyStore(input, store);
  assert.equal(damaged.map((d) => d.key), [first, second]);
  assert.match(damaged[0]!.message, /decodes to 100 bytes where the chunk holds 1024: the file is truncated or damaged/);
  const sharded = path.join(dir, 'short-shard.zarr');
  await convert(input, sharded, { shape: [...SHAPE], dtype: 'uint16', chunk: [8, 8, 4], shard: [16, 16, 8], codec: 'raw+crc32c' });
  const [shard] = chunkFiles(sharded);
  fs.truncateSync(path.join(sharded, shard!), 50);
  const info = await slabchunk(['info', sharded]);
  assert.is(info.code, 1);
  assert.match(info.stderr, new RegExp(`shard ${shard} of .*: is 50 bytes, shorter than its index \\(132 bytes\\): the file is truncated`));
});

integrity.run();
