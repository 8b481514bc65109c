/**
 * tobytes on a generated volume: split a 96×64×40 uint16 image (numpy-style C layout) into 32×32×20
 * chunks, print what came out, and check every chunk against a plain per-voxel slice.
 * Run: npm run example
 */
import { tobytes } from '../src/stream/tobytes.ts';
import type { Order, Vec3 } from '../src/core/geometry.ts';

const shape: Vec3 = [96, 64, 40];
const chunk: Vec3 = [32, 32, 20];

// A recognisable pattern: each voxel holds x + 100*y + 10000*z (mod 2^16), stored z fastest (C layout).
const data = new Uint16Array(shape[0] * shape[1] * shape[2]);
for (let x = 0; x < shape[0]; x++) for (let y = 0; y < shape[1]; y++) for (let z = 0; z < shape[2]; z++) {
  data[z + shape[2] * (y + shape[1] * x)] = (x + 100 * y + 10000 * z) & 0xffff;
}
const image = { data, shape, order: 'C' as const };

/** What numpy's `image[x0:x1, y0:y1, z0:z1].tobytes(order)` gives, voxel by voxel. */
function slice(start: Vec3, order: Order): Buffer {
  const out = new Uint16Array(chunk[0] * chunk[1] * chunk[2]);
  for (let x = 0; x < chunk[0]; x++) for (let y = 0; y < chunk[1]; y++) for (let z = 0; z < chunk[2]; z++) {
    const at = order === 'F' ? x + chunk[0] * (y + chunk[1] * z) : z + chunk[2] * (y + chunk[1] * x);
    out[at] = data[(start[2] + z) + shape[2] * ((start[1] + y) + shape[1] * (start[0] + x))];
  }
  return Buffer.from(out.buffer);
}

for (const order of ['F', 'C'] as const) {
  const t = performance.now();
  const chunks = tobytes(image, chunk, order);
  const ms = performance.now() - t;
  const grid = shape.map((s, a) => s / chunk[a]);
  let same = 0;
  chunks.forEach((buf, i) => {
    // Fortran grid order: i = gx + GX*(gy + GY*gz).
    const gx = i % grid[0], gy = Math.floor(i / grid[0]) % grid[1], gz = Math.floor(i / (grid[0] * grid[1]));
    if (buf.equals(slice([gx * chunk[0], gy * chunk[1], gz * chunk[2]], order))) same++;
  });
  console.log(
    `order ${order}: ${chunks.length} chunks (grid ${grid.join('×')}) of ${chunks[0].length} bytes each, ` +
      `${ms.toFixed(1)} ms; ${same}/${chunks.length} equal to the per-voxel slice`,
  );
  const first = new Uint16Array(chunks[1].buffer, chunks[1].byteOffset, 4);
  console.log(`  chunk 1 (gx=1) starts with ${[...first].join(', ')} — voxels (32..35,0,0) in F, (32,0,0..3) in C`);
  if (same !== chunks.length) process.exitCode = 1;
}
