/**
 * Streams a raw volume file into chunks: `fs.createReadStream(file).pipe(new Chunker({...}))`.
 * Makes a small uint16 volume in a temporary file first, so it runs anywhere:
 *
 *   npm run example:chunker
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Chunker } from '../src/stream/chunker.ts'; // from 'slabchunk' in your project
import type { ChunkRecord } from '../src/stream/record.ts';

const shape = [100, 80, 50] as const; // [X, Y, Z], x fastest in the file
const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'slabchunk-example-')), 'volume.raw');

// The volume: voxel (x, y, z) holds x + y + z, written slab after slab as a microscope would.
const slab = new Uint16Array(shape[0] * shape[1]);
const out = fs.openSync(file, 'w');
for (let z = 0; z < shape[2]; z++) {
  for (let y = 0; y < shape[1]; y++) for (let x = 0; x < shape[0]; x++) slab[x + shape[0] * y] = x + y + z;
  fs.writeSync(out, slab);
}
fs.closeSync(out);

const chunks = fs.createReadStream(file).pipe(new Chunker({ shape, dtype: 'uint16', chunk: [64, 64, 32] }));

let count = 0, bytes = 0;
for await (const chunk of chunks as AsyncIterable<ChunkRecord>) {
  count++;
  bytes += chunk.data.length;
  // Chunk bytes are F order: voxel (1, 0, 0) of the chunk is the second element.
  const first = chunk.data.readUInt16LE(0), second = chunk.data.readUInt16LE(2);
  console.log(`chunk ${chunk.index} at [${chunk.coords.join(', ')}]: ${chunk.shape.join('×')} real voxels, `
    + `${chunk.data.length} bytes, starts ${first}, ${second}`);
}
console.log(`${count} chunks, ${bytes} bytes (edge chunks padded to 64×64×32 with 0)`);
fs.rmSync(path.dirname(file), { recursive: true, force: true });
