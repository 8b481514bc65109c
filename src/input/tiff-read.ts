/**
 * Reading TIFF planes (geotiff.js for the container and its decoders). An uncompressed plane whose strips lie end
 * to end is read with one positioned read straight into the row; every other plane is decoded by geotiff, its
 * deflate through node:zlib (native, about twice pako's speed). Each engine worker has its own reader, so planes
 * decode on every core.
 */
import fs from 'node:fs';
import zlib from 'node:zlib';
import { addDecoder, BaseDecoder, fromFile, type GeoTIFF, type GeoTIFFImage } from 'geotiff';
import { bytesPerElement, swapElements } from '../core/dtype.ts';
import { SlabchunkError } from '../core/errors.ts';
import { planeSlabReader, type SlabReader, type TiffSource } from './slabs.ts';

/** TIFF Compression tag values: deflate (Adobe and the old code). */
export const DEFLATE_COMPRESSIONS = [8, 32946] as const;

class ZlibDecoder extends BaseDecoder {
  override decodeBlock(buffer: ArrayBufferLike): ArrayBufferLike {
    const out = zlib.inflateSync(new Uint8Array(buffer));
    return out.byteOffset === 0 && out.byteLength === out.buffer.byteLength ? out.buffer : out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength);
  }
}
addDecoder([...DEFLATE_COMPRESSIONS], () => Promise.resolve(ZlibDecoder));

/** Files a reader keeps open: a folder of slices is read a few files at a time, in order. */
const OPEN_FILES = 4;

interface OpenFile {
  readonly tiff: GeoTIFF;
  readonly fd: number;
  /** Per page: the byte offset of an uncompressed plane stored end to end, or null (decode through geotiff). */
  readonly direct: Map<number, number | null>;
}

/** Where an uncompressed plane's bytes start when its strips lie end to end, in line order; else null. */
export async function directOffset(image: GeoTIFFImage, planeBytes: number): Promise<number | null> {
  const dir = image.fileDirectory;
  if ((dir.getValue('Compression') ?? 1) !== 1 || !dir.hasTag('StripOffsets')) return null;
  const offsets = await dir.loadValue('StripOffsets') as ArrayLike<number>;
  const counts = await dir.loadValue('StripByteCounts') as ArrayLike<number>;
  let total = 0;
  for (let i = 0; i < offsets.length; i++) {
    if (Number(offsets[i]) !== Number(offsets[0]) + total) return null;
    total += Number(counts[i]);
  }
  return total >= planeBytes ? Number(offsets[0]) : null;
}

/** A reader of the planes of `source`, for one thread. */
export function openTiffReader(source: TiffSource): SlabReader {
  const [width, height] = source.shape;
  const elementSize = bytesPerElement(source.dtype);
  const lineBytes = width * elementSize;
  const open = new Map<number, Promise<OpenFile>>();

  const fileOf = (index: number): Promise<OpenFile> => {
    const known = open.get(index);
    if (known) {
      // Most recently used last.
      open.delete(index);
      open.set(index, known);
      return known;
    }
    const { path } = source.files[index]!;
    const opened = fromFile(path).then((tiff) => ({ tiff, fd: fs.openSync(path, 'r'), direct: new Map<number, number | null>() }));
    open.set(index, opened);
    if (open.size > OPEN_FILES) {
      const [oldest, file] = open.entries().next().value!;
      open.delete(oldest);
      void file.then(closeFile, () => undefined);
    }
    return opened;
  };

  const readPlane = async (z: number, y0: number, y1: number, dest: Uint8Array): Promise<void> => {
    const [fileIndex, page] = source.planes[z]!;
    const where = () => `${source.files[fileIndex]!.path}${source.planes.length > 1 && source.files.length === 1 ? ` page ${page}` : ''}`;
    try {
      const file = await fileOf(fileIndex);
      const image = await file.tiff.getImage(page);
      if (!file.direct.has(page)) file.direct.set(page, await directOffset(image, lineBytes * height));
      const offset = file.direct.get(page)!;
      if (offset !== null) {
        const position = offset + y0 * lineBytes;
        for (let done = 0; done < dest.length;) {
          const n = fs.readSync(file.fd, dest, done, dest.length - done, position + done);
          if (n === 0) throw new Error(`it ends at byte ${position + done}, inside the plane: it was truncated`);
          done += n;
        }
        if (!image.littleEndian && elementSize > 1) swapElements(Buffer.from(dest.buffer, dest.byteOffset, dest.length), elementSize);
        return;
      }
      const raster = await image.readRasters({ window: [0, y0, width, y1], samples: [0], interleave: true });
      const view = raster as unknown as ArrayBufferView;
      if (view.byteLength !== dest.length) throw new Error(`a plane decoded to ${view.byteLength} bytes, not ${dest.length}`);
      dest.set(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
    } catch (error) {
      throw new SlabchunkError('EREAD', `could not read ${where()} (plane z=${z}): ${(error as Error).message}`, { cause: error, key: source.files[fileIndex]!.path });
    }
  };

  return planeSlabReader(source, readPlane, () => {
    for (const file of open.values()) void file.then(closeFile, () => undefined);
    open.clear();
  });
}

function closeFile(file: OpenFile): void {
  fs.closeSync(file.fd);
  void file.tiff.close();
}
