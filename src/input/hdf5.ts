/**
 * HDF5 inputs (`file.h5:/path/to/dataset`) through h5wasm, which reads hyperslabs straight from the file: a 3-D
 * dataset stored (Z, Y, X) in C order, as HDF5 writes it, is the volume with x fastest, read a few planes (or
 * lines of one plane) at a time and never whole.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { bytesPerElement, type DType } from '../core/dtype.ts';
import { invalid, SlabchunkError } from '../core/errors.ts';
import { formatShape, type Vec3 } from '../core/geometry.ts';
import { identityOf } from './identity.ts';
import { slabStream, type Hdf5Source, type SlabReader } from './slabs.ts';
import type { DescribedInput, PlaneSelection } from './types.ts';

type H5 = typeof import('h5wasm/node').default;
type H5File = InstanceType<H5['File']>;
type H5Dataset = InstanceType<H5['Dataset']>;

let loaded: Promise<H5> | undefined;
async function h5wasm(): Promise<H5> {
  loaded ??= import('h5wasm/node').then(async ({ default: h5 }) => {
    // Without it an HDF5 error (a missing filter, a corrupt chunk) is only printed, and the read returns whatever
    // the buffer held.
    (await h5.ready).activate_throwing_error_handler();
    return h5;
  });
  return loaded;
}

/** The HDF5 signature, found at byte 0, 512, 1024, 2048, … of a file. */
const SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/** True when the file at `path` carries the HDF5 signature where HDF5 puts it. */
export function isHdf5File(path: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch {
    return false;
  }
  try {
    const size = fs.fstatSync(fd).size;
    const head = Buffer.alloc(8);
    for (let at = 0; at + 8 <= size; at = at === 0 ? 512 : at * 2) {
      fs.readSync(fd, head, 0, 8, at);
      if (head.equals(SIGNATURE)) return true;
    }
    return false;
  } finally {
    fs.closeSync(fd);
  }
}

/** `file.h5:/dataset` split at the `:` after an existing file's name; undefined when `input` names no such file. */
export function splitDatasetPath(input: string): { file: string; dataset: string | undefined } | undefined {
  for (let at = input.indexOf(':'); at > 0; at = input.indexOf(':', at + 1)) {
    const file = input.slice(0, at);
    if (input[at + 1] === '/' && fs.statSync(file, { throwIfNoEntry: false })?.isFile()) return { file, dataset: input.slice(at + 1) };
  }
  return undefined;
}

function dtypeOf(d: H5Dataset): DType | undefined {
  const m = d.metadata as { type: number; size: number; signed: boolean; enum_type?: { members: Record<string, number> } };
  // HDF5 type classes: 0 integer, 1 float, 8 enum (h5py's bool is an enum of FALSE and TRUE).
  if (m.type === 0) return ({ 1: ['uint8', 'int8'], 2: ['uint16', 'int16'], 4: ['uint32', 'int32'], 8: ['uint64', 'int64'] } as Record<number, [DType, DType]>)[m.size]?.[m.signed ? 1 : 0];
  if (m.type === 1) return ({ 4: 'float32', 8: 'float64' } as Record<number, DType>)[m.size];
  if (m.type === 8 && m.size === 1 && m.enum_type && Object.keys(m.enum_type.members).sort().join() === 'FALSE,TRUE') return 'bool';
  return undefined;
}

/** The 3-D datasets of `file`, for the message that asks for one. */
function datasetsOf(file: H5File): string[] {
  const found: string[] = [];
  const walk = (group: { keys(): string[]; get(name: string): unknown }, prefix: string) => {
    for (const name of group.keys()) {
      const item = group.get(name) as { type?: string; shape?: number[] | null; keys?: () => string[] } | null;
      if (!item) continue;
      if (item.type === 'Dataset' && item.shape?.length === 3) found.push(`${prefix}/${name} (${[...item.shape].reverse().join('×')})`);
      else if (item.type === 'Group' && found.length < 20) walk(item as never, `${prefix}/${name}`);
    }
  };
  walk(file, '');
  return found;
}

/** HDF5's built-in filters (deflate, shuffle, fletcher32, nbit, scaleoffset): the ones h5wasm decodes. */
const BUILT_IN_FILTERS = new Set([1, 2, 3, 5, 6]);

function openFile(h5: H5, file: string, fail: (message: string, cause: unknown) => SlabchunkError): H5File {
  try {
    return new h5.File(file, 'r');
  } catch (error) {
    throw fail(`${file} cannot be opened as HDF5 (${hdf5Reason(error)}): it is truncated or damaged`, error);
  }
}

/** h5wasm's errors carry HDF5's whole error stack: its innermost entry says what failed. */
function hdf5Reason(error: unknown): string {
  const text = String((error as Error)?.message ?? error);
  const entries = [...text.matchAll(/#\d+: .* in \w+\(\): (.*)$/gm)];
  return entries.length > 0 ? `HDF5: ${entries[entries.length - 1]![1]!.trim()}` : text.trim().split('\n')[0]!;
}

/**
 * Opens `input` (`file.h5:/dataset`) and checks the dataset: 3-D, a numeric type, only filters h5wasm has, its
 * first chunk readable.
 */
export async function describeHdf5(input: string, file: string, dataset: string | undefined, selection: PlaneSelection = {}): Promise<DescribedInput> {
  if (selection.channel !== undefined || selection.time !== undefined) throw invalid('--channel and --time pick planes of a multi-channel TIFF; an HDF5 dataset is one 3-D volume: drop them');
  const stat = await fsp.stat(file, { bigint: true });
  if (!isHdf5File(file)) throw invalid(`${file} is not an HDF5 file (no HDF5 signature)`);
  const h5 = await h5wasm();
  const f = openFile(h5, file, (message, cause) => new SlabchunkError('EINVALID', message, { cause }));
  try {
    if (dataset === undefined) {
      const list = datasetsOf(f);
      throw invalid(`${input} is an HDF5 file: name the dataset as ${file}:/path/to/dataset${list.length > 0 ? `; its 3-D datasets: ${list.join(', ')}` : '; it holds no 3-D dataset'}`);
    }
    const item = f.get(dataset) as { type?: string } | null;
    if (!item) throw invalid(`${file} has no dataset ${dataset}${describeList(datasetsOf(f))}`);
    if (item.type !== 'Dataset') throw invalid(`${file}:${dataset} is a ${String(item.type).toLowerCase()}, not a dataset${describeList(datasetsOf(f))}`);
    const d = item as H5Dataset;
    const dims = d.shape ?? [];
    if (dims.length !== 3) throw invalid(`${file}:${dataset} is ${dims.length}-D (${dims.join('×') || 'scalar'}); slabchunk reads a 3-D dataset stored (Z, Y, X)`);
    const dtype = dtypeOf(d);
    if (!dtype) throw invalid(`${file}:${dataset} holds ${d.dtype} values; slabchunk reads integers, floats and booleans`);
    const shape: Vec3 = [dims[2]!, dims[1]!, dims[0]!];
    if (shape.some((n) => n === 0)) throw invalid(`${file}:${dataset} is empty (${dims.join('×')})`);
    const filterList = d.filters as { id: number; name: string }[];
    const filters = filterList.map((x) => x.name);
    const foreign = filterList.filter((x) => !BUILT_IN_FILTERS.has(x.id));
    if (foreign.length > 0) {
      throw invalid(`${file}:${dataset} is compressed with ${foreign.map((x) => `${x.name} (filter ${x.id})`).join(', ')}, which slabchunk cannot decode; `
        + 'rewrite it with deflate or none (h5repack -f GZIP=4 IN OUT)');
    }
    try {
      // One voxel decodes one chunk: a damaged file fails here, before anything is written.
      d.slice([[0, 1], [0, 1], [0, 1]]);
    } catch (error) {
      throw invalid(`${file}:${dataset} cannot be read (${hdf5Reason(error)}): it is truncated or damaged`);
    }
    const chunks = (d.metadata as { chunks: number[] | null }).chunks;
    const source: Hdf5Source = { kind: 'hdf5', shape, dtype, files: [{ path: file, identity: identityOf(stat) }], dataset,
      // A contiguous dataset is read in bands of ~8 MiB: no chunk to keep whole, and a smaller heap.
      chunkPlanes: chunks?.[0] ?? 1, chunkLines: chunks?.[1] ?? Math.max(1, Math.min(shape[1], Math.floor(8 * 2 ** 20 / (shape[0] * bytesPerElement(dtype))))),
      chunkWidth: chunks?.[2] ?? shape[0],
    };
    return {
      input: { name: input, seekable: true, slabs: source, read: (range) => slabStream(source, range) },
      shape, dtype,
      summary: `HDF5 dataset ${dataset} (${chunks ? `chunks ${[...chunks].reverse().join('×')}` : 'contiguous'}${filters.length > 0 ? `, ${filters.join(', ')}` : ''}), ${formatShape(shape)} ${dtype}`,
      notes: [],
    };
  } finally {
    f.close();
  }
}

function describeList(list: string[]): string {
  return list.length > 0 ? `; its 3-D datasets: ${list.join(', ')}` : '';
}

/** A reader of the dataset's planes, for one thread. */
export async function openHdf5Reader(source: Hdf5Source): Promise<SlabReader> {
  const h5 = await h5wasm();
  const { path } = source.files[0];
  const f = openFile(h5, path, (message, cause) => new SlabchunkError('EREAD', message, { cause, key: path }));
  const d = f.get(source.dataset) as H5Dataset | null;
  if (!d) {
    f.close();
    throw new SlabchunkError('EREAD', `${path} no longer has dataset ${source.dataset}`, { key: path });
  }
  const lineBytes = source.shape[0] * bytesPerElement(source.dtype);
  return {
    async read({ z0, z1, y0, y1 }, dest, planeStride) {
      // Read a block of chunks at a time (their depth in z, their height in y): each chunk is decoded once, and
      // what h5wasm allocates in its heap (which never shrinks) is one such block.
      const depth = source.chunkPlanes;
      for (let a = z0; a < z1;) {
        const b = Math.min(z1, (Math.floor(a / depth) + 1) * depth);
        const planes = b - a === 1 ? `plane z=${a}` : `planes z=${a}…${b - 1}`;
        for (let c0 = y0; c0 < y1;) {
          const c1 = Math.min(y1, (Math.floor(c0 / source.chunkLines) + 1) * source.chunkLines);
          let values: ArrayBufferView;
          try {
            values = d.slice([[a, b], [c0, c1], []]) as unknown as ArrayBufferView;
          } catch (error) {
            throw new SlabchunkError('EREAD', `could not read ${path}:${source.dataset} ${planes}: ${hdf5Reason(error)}`, { cause: error, key: path });
          }
          const bandBytes = (c1 - c0) * lineBytes;
          if (values.byteLength !== (b - a) * bandBytes) {
            throw new SlabchunkError('EREAD', `${path}:${source.dataset} ${planes} read as ${values.byteLength} bytes, not ${(b - a) * bandBytes}`, { key: path });
          }
          const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
          for (let z = a; z < b; z++) dest.set(bytes.subarray((z - a) * bandBytes, (z - a + 1) * bandBytes), (z - z0) * planeStride + (c0 - y0) * lineBytes);
          c0 = c1;
        }
        a = b;
      }
    },
    close: () => f.close(),
  };
}
