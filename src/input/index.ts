/** Opening the input of `convert` and `verify`: one interface ({@link VolumeInput}), one module per format. */
import fs from 'node:fs';
import type { Readable } from 'node:stream';
import { invalid } from '../core/errors.ts';
import { describeHdf5, isHdf5File, splitDatasetPath } from './hdf5.ts';
import { openRawInput, unreadableInput } from './raw.ts';
import { isS3Url } from '../zarr/stores/s3.ts';
import { openS3Input } from './s3.ts';
import { describeTiffFile, describeTiffFolder, isTiffMagic, looksLikeTiff } from './tiff.ts';
import type { DescribedInput, PlaneSelection, VolumeGeometry, VolumeInput } from './types.ts';

export type { DescribedInput, PlaneSelection, VolumeGeometry, VolumeInput } from './types.ts';

/**
 * Checks a raw `input` — a file, `-`, a stream, or an `s3://` object (read with ranged GETs, through `s3Endpoint`
 * when given) — against the volume's geometry (EINVALID / ESIZE, the caller's to fix) before anything is read.
 */
export function openInput(input: string | Readable, geometry: VolumeGeometry & { readonly s3Endpoint?: string | undefined }): Promise<VolumeInput> {
  if (typeof input === 'string' && isS3Url(input)) return openS3Input(input, geometry, geometry.s3Endpoint ? { endpoint: geometry.s3Endpoint } : {});
  return openRawInput(input, geometry);
}

/** TIFF and HDF5 files are read with many small positioned reads: from object storage they must be copied down first. */
const LOCAL_FORMATS = /\.(tiff?|btf|tf2|tf8|h5|hdf5|he5|nc)$|\.(h5|hdf5):\//i;

/**
 * What a self-describing input holds — a folder or glob of TIFF slices, a (Big/OME-)TIFF file, an HDF5 dataset
 * (`file.h5:/path`) — with every header checked; undefined for raw bytes (a file of another kind, `-`, a stream),
 * which `--shape` and `--dtype` describe. EINVALID names the file and the problem.
 */
export async function describeInput(input: string | Readable, selection: PlaneSelection = {}): Promise<DescribedInput | undefined> {
  for (const key of ['channel', 'time'] as const) {
    const value = selection[key];
    if (value !== undefined && !(Number.isSafeInteger(value) && value >= 0)) throw invalid(`--${key} must be an integer ≥ 0. Got: ${String(value)}`);
  }
  if (typeof input !== 'string' || input === '-') return undefined;
  if (isS3Url(input)) {
    if (LOCAL_FORMATS.test(input)) throw invalid(`${input} looks like a TIFF or HDF5 file; only raw volumes are read from object storage: copy it to a local disk first (e.g. \`aws s3 cp\`) and convert the copy`);
    return undefined;
  }
  let stat: fs.Stats;
  try {
    stat = fs.statSync(input);
  } catch (error) {
    const h5 = splitDatasetPath(input);
    if (h5) return describeHdf5(input, h5.file, h5.dataset, selection);
    if (/[*?[]/.test(input)) return describeTiffFolder(input, selection);
    throw unreadableInput(input, error as NodeJS.ErrnoException);
  }
  if (stat.isDirectory()) return describeTiffFolder(input, selection);
  if (!stat.isFile()) return undefined;
  const head = Buffer.alloc(4);
  const fd = fs.openSync(input, 'r');
  try {
    fs.readSync(fd, head, 0, 4, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (isTiffMagic(head)) return describeTiffFile(input, selection);
  if (isHdf5File(input)) return describeHdf5(input, input, undefined, selection);
  if (looksLikeTiff(input)) throw invalid(`${input} is named like a TIFF but is not one (it starts with bytes ${[...head].map((b) => b.toString(16).padStart(2, '0')).join(' ')}); give a TIFF, or rename a raw volume`);
  return undefined;
}
