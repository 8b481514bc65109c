/** The commands: what each takes (for parsing and help) and where its code is, loaded on use so `--help` is instant. */
import type { CommandSpec, RowName } from './args.ts';
import type { Command } from './io.ts';
import { OPTIONS } from '../ops/options.ts';

const PROGRESS: readonly RowName[] = ['progress', 'noProgress'];

export interface CommandEntry extends CommandSpec {
  load(): Promise<Command>;
}

export const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  convert: {
    args: ['input|-', 'store'],
    summary: 'a volume (raw file or stdin, TIFF slices or stack, HDF5 dataset) to a Zarr store',
    options: [...(Object.keys(OPTIONS) as RowName[]), 'parts', 'json', ...PROGRESS],
    load: async () => (await import('./commands/convert.ts')).convertCommand,
  },
  info: {
    args: ['store'],
    summary: 'shape, dtype, chunks, codecs, chunks present, bytes on disk, rows done',
    options: ['s3Endpoint', 'json'],
    load: async () => (await import('./commands/info.ts')).infoCommand,
  },
  verify: {
    args: ['input|-', 'store'],
    summary: 're-read both and name every chunk that differs (geometry comes from the store)',
    options: ['endian', 'header', 'channel', 'time', 's3Endpoint', 'json', ...PROGRESS],
    load: async () => (await import('./commands/verify.ts')).verifyCommand,
  },
  export: {
    args: ['store', 'output|-'],
    summary: 'the store back out as raw slabs (the inverse of convert)',
    options: ['level', 's3Endpoint', ...PROGRESS],
    load: async () => (await import('./commands/export.ts')).exportCommand,
  },
  finish: {
    args: ['store'],
    summary: 'write the pyramid levels the parts of a split job could not (reads the finest level every part finished)',
    options: ['threads', 'maxMemory', 'concurrency', 'fsync', 's3Endpoint', 'json'],
    load: async () => (await import('./commands/finish.ts')).finishCommand,
  },
  view: {
    args: ['store'],
    summary: 'serve the store and a neuroglancer viewer on 127.0.0.1 and print the URL',
    options: ['port', 'noOpen', 's3Endpoint'],
    load: async () => (await import('./commands/view.ts')).viewCommand,
  },
};
