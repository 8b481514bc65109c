/**
 * OME-Zarr stores for the viewer and OME interop tests, written the way users write them: `slabchunk convert
 * --ome` run in-process on a raw uint16 volume of concentric shells (so every level looks different).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Vec3 } from '../../src/core/geometry.ts';
import { slabchunk } from './cli.ts';

export interface OmeStoreCase {
  shape: Vec3;
  chunk: Vec3;
  /** Zarr format: 3 writes OME-Zarr 0.5, 2 writes 0.4. */
  format: 2 | 3;
  shard?: Vec3;
  voxelSize?: Vec3;
  /** `--codec`; convert's default when absent. */
  codec?: string;
}

/** Level 0 as raw F-order uint16: shells around the centre, the background dim. */
export function shellVolume([X, Y, Z]: Vec3): Buffer {
  const data = new Uint16Array(X * Y * Z);
  for (let z = 0; z < Z; z++) {
    for (let y = 0; y < Y; y++) {
      for (let x = 0; x < X; x++) {
        const r = Math.hypot((2 * x) / X - 1, (2 * y) / Y - 1, (2 * z) / Z - 1);
        data[x + X * (y + Y * z)] = r >= 1 ? 500 : Math.sin(r * 20) > 0 ? 20_000 + ((x ^ y ^ z) & 1023) : 3000;
      }
    }
  }
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** Writes the input into `dir` and converts it to `dir/<name>`; returns the store path. Fails with convert's stderr. */
export async function omeStore(dir: string, name: string, c: OmeStoreCase): Promise<string> {
  const input = join(dir, `${name}.raw`);
  const store = join(dir, name);
  await writeFile(input, shellVolume(c.shape));
  const ran = await slabchunk([
    'convert', input, store, '--shape', c.shape.join(','), '--dtype', 'uint16', '--chunk', c.chunk.join(','),
    '--ome', '--levels', 'auto', '--voxel-size', (c.voxelSize ?? [0.5, 0.5, 1]).join(','), '--unit', 'micrometer',
    '--zarr-format', String(c.format), ...(c.shard ? ['--shard', c.shard.join(',')] : []),
    ...(c.codec ? ['--codec', c.codec] : []), '--no-progress',
  ]);
  if (ran.code !== 0) throw new Error(`slabchunk convert --ome exited ${ran.code}: ${ran.stderr}`);
  return store;
}
