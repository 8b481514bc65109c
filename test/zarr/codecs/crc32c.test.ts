import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decompress as fzstdDecompress } from 'fzstd';
import { refCrc32c } from '../../lib/crc32c.ts';
import { encode, sample } from './lib.ts';

// ---- crc32c: checked against the tests' bitwise CRC-32C (test/lib/crc32c.ts) ----

test('crc32c: appends the little-endian CRC-32C of the encoded bytes', async () => {
  assert.is(refCrc32c(Buffer.from('123456789')), 0xe3069283, 'reference matches the CRC-32C check value');
  for (const codec of ['raw+crc32c', 'zstd:3+crc32c', 'gzip:1+crc32c']) {
    const data = sample(5000, 9);
    const out = await encode(codec, data);
    const body = out.subarray(0, out.length - 4);
    assert.is(out.readUInt32LE(out.length - 4), refCrc32c(body), codec);
    if (codec.startsWith('raw')) assert.ok(body.equals(data));
    if (codec.startsWith('zstd')) assert.ok(Buffer.from(fzstdDecompress(body)).equals(data));
  }
});

test.run();
