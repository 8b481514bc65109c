/** Opening the input of `convert` and `verify`: one interface ({@link VolumeInput}), one module per format. */
import type { Readable } from 'node:stream';
import { openRawInput } from './raw.ts';
import type { VolumeGeometry, VolumeInput } from './types.ts';

export type { VolumeGeometry, VolumeInput } from './types.ts';

/** Checks `input` against the volume's geometry (EINVALID / ESIZE, the caller's to fix) before anything is read. */
export function openInput(input: string | Readable, geometry: VolumeGeometry): Promise<VolumeInput> {
  return openRawInput(input, geometry);
}
