import type { Readable } from 'node:stream';
import type { DType } from '../core/dtype.ts';
import type { Vec3 } from '../core/geometry.ts';
import type { SlabSource } from './slabs.ts';

/** What an input is checked against: the volume it must hold. */
export interface VolumeGeometry {
  readonly shape: Vec3;
  readonly dtype: DType;
  /** Bytes before the volume (a file header). */
  readonly header: number;
}

/** An opened input, checked against its geometry; every format is read through this one interface. */
export interface VolumeInput {
  /** The path as given, `-`, or `<stream>`: how messages name it. */
  readonly name: string;
  /** Byte ranges can be read without reading what comes before (parts, resume). */
  readonly seekable: boolean;
  /**
   * The volume's bytes `[start, end)` (header excluded), as Z-slabs of the F-layout file. A range needs a
   * seekable input (whole planes, for TIFF and HDF5); without one, the whole volume from its first byte.
   */
  read(range?: readonly [number, number]): Readable;
  /**
   * A regular file holding the volume's bytes from `offset` on: the convert engine reads it with positioned reads,
   * and checks against `identity` (taken when the input was checked) that it is not changed while read.
   */
  readonly file?: { readonly path: string; readonly offset: number; readonly identity: FileIdentity };
  /** A TIFF or HDF5 input: where each plane lives; the convert engine's threads decode planes straight into rows. */
  readonly slabs?: SlabSource;
}

/** Which 3-D volume of a multi-channel or multi-time-point file to read (default 0 and 0). */
export interface PlaneSelection {
  readonly channel?: number | undefined;
  readonly time?: number | undefined;
}

/** A self-describing input (TIFF, HDF5), checked: what it holds, read from the file. */
export interface DescribedInput {
  readonly input: VolumeInput & { readonly slabs: SlabSource };
  readonly shape: Vec3;
  readonly dtype: DType;
  /** Physical size of a voxel `[x, y, z]` in `unit`, where the file states it (OME-TIFF). */
  readonly voxelSize?: readonly [number, number, number];
  readonly unit?: string;
  /** One line: the format and what was read from it (pages, compression, shape, dtype, voxel size). */
  readonly summary: string;
  /** What the user should hear before the run (a plane chosen among several). */
  readonly notes: readonly string[];
}

/** What tells a file's content has changed: another file at the path, another size, another modification time. */
export interface FileIdentity {
  readonly dev: bigint;
  readonly ino: bigint;
  readonly size: bigint;
  readonly mtimeNs: bigint;
  /** Changes with any write, even one that sets the modification time back (`touch -r`, `rsync --inplace`). */
  readonly ctimeNs: bigint;
}
