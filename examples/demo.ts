/**
 * The quick-start demo: generates a small microscopy-like uint16 volume, converts it to a Zarr v3 store with
 * the CLI, verifies it, and prints the store's info. Output goes to ./demo/ (rerunning replaces it).
 */
import fs from 'node:fs';
import path from 'node:path';
import { generateVolume } from '../bench/lib/volume.ts';
import { run } from '../src/cli/run.ts';

const dir = path.resolve('demo');
const raw = path.join(dir, 'sample.raw');
const store = path.join(dir, 'sample.zarr');
const shape = [256, 256, 128] as const;
const io = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };

fs.mkdirSync(dir, { recursive: true });
const bytes = await generateVolume(raw, shape, 'uint16', 1);
console.log(`generated ${raw}: ${shape.join('×')} uint16, ${(bytes / 1e6).toFixed(1)} MB\n`);

const steps = [
  ['convert', raw, store, '--shape', shape.join(','), '--dtype', 'uint16', '--chunk', '64,64,64', '--codec', 'zstd:3', '--overwrite'],
  ['verify', raw, store],
  ['info', store],
];
for (const argv of steps) {
  console.log(`$ slabchunk ${argv.map((a) => path.relative(process.cwd(), a) || a).join(' ')}`);
  const code = await run(argv, io);
  if (code !== 0) {
    process.exitCode = code;
    break;
  }
  console.log('');
}
