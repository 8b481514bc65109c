import { test } from 'uvu';
import * as assert from 'uvu/assert';
import zlib from 'node:zlib';
import { encode, sample } from './lib.ts';

// ---- gzip: RFC 1952, decoded by zlib ----

test('gzip: an RFC 1952 member that zlib.gunzipSync decodes', async () => {
  for (const n of [1, 1000, 300_000]) {
    const data = sample(n, n);
    for (const level of [0, 1, 9]) {
      const out = await encode(`gzip:${level}`, data);
      assert.equal([out[0], out[1], out[2]], [0x1f, 0x8b, 8], 'gzip magic, deflate');
      assert.ok(zlib.gunzipSync(out).equals(data));
    }
  }
});

test.run();
