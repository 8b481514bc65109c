import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as api from '../src/index.ts';

// The public API, by name and kind. A change here is a change for every library user: make it on purpose,
// update this list, and say so in CHANGELOG.md.
test('public exports of src/index.ts', () => {
  const kinds = Object.fromEntries(Object.entries(api).map(([name, value]) => [name, Array.isArray(value) ? 'array' : typeof value]));
  assert.equal(kinds, {
    CONVERT_OPTIONS: 'array',
    Chunker: 'function',
    DOWNSAMPLE_METHODS: 'array',
    DTYPES: 'array',
    FileSystemStore: 'function',
    S3Store: 'function',
    SlabchunkError: 'function',
    ZarrSink: 'function',
    bytesPerElement: 'function',
    chunkBounds: 'function',
    convert: 'function',
    describeInput: 'function',
    dtypeOf: 'function',
    exportStore: 'function',
    finish: 'function',
    fortranCoords: 'function',
    fortranIndex: 'function',
    gridShape: 'function',
    inspectStore: 'function',
    planChunker: 'function',
    prepareConvert: 'function',
    resolveSinkOptions: 'function',
    tobytes: 'function',
    typedArray: 'function',
    typedView: 'function',
    verifyStore: 'function',
  });
});

test.run();
