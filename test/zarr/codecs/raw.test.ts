import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encode, sample } from './lib.ts';

test('raw: the bytes as they are, no copy', async () => {
  const data = sample(100, 1);
  assert.is(await encode('raw', data), data);
});

test.run();
