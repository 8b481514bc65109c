/**
 * Reading TIFF planes: geotiff.js parses the IFDs and decodes strips and tiles (its deflate replaced by
 * node:zlib's, native and about twice pako's speed); the bytes are read and placed here. An uncompressed plane
 * whose strips lie end to end is one positioned read straight into the row; others are read strip by strip (tile by
 * tile), decoded and copied line by line — geotiff's own readRasters converts every pixel through a DataView call,
 * several times slower. Each engine worker has its own reader, so planes decode on every core.
 */
import fs from 'node:fs';
import zlib from 'node:zlib';
import { addDecoder, BaseDecoder, fromFile, getDecoder, type GeoTIFF, type GeoTIFFImage } from 'geotiff';
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

/** How a page's pixels are stored: where each strip or tile lies, and how to decode it. */
interface PageLayout {
  /** An uncompressed plane whose strips lie end to end, in line order: the file offset of its first byte. */
  readonly direct: number | null;
  readonly littleEndian: boolean;
  readonly tiled: boolean;
  /** Strip or tile width and height in pixels (a strip is as wide as the plane). */
  readonly blockWidth: number;
  readonly blockHeight: number;
  readonly offsets: ArrayLike<number>;
  readonly counts: ArrayLike<number>;
  /** Decodes one strip or tile, in the file's byte order (predictor undone, except `swappedPredictor`'s). */
  readonly decoder: BaseDecoder | null;
  /**
   * A big-endian file's horizontal predictor on multi-byte samples, which geotiff would undo in the machine's byte
   * order: undone here instead, once the block is little-endian.
   */
  readonly swappedPredictor: boolean;
}

interface OpenFile {
  readonly tiff: GeoTIFF;
  readonly fd: number;
  readonly pages: Map<number, Promise<PageLayout>>;
}

/** Where an uncompressed plane's bytes start when its strips lie end to end, in line order; else null. */
function directOffset(offsets: ArrayLike<number>, counts: ArrayLike<number>, planeBytes: number): number | null {
  let total = 0;
  for (let i = 0; i < offsets.length; i++) {
    if (Number(offsets[i]) !== Number(offsets[0]) + total) return null;
    total += Number(counts[i]);
  }
  return total >= planeBytes ? Number(offsets[0]) : null;
}

async function pageLayout(image: GeoTIFFImage, planeBytes: number, bitsPerSample: number): Promise<PageLayout> {
  const dir = image.fileDirectory;
  const tiled = !dir.hasTag('StripOffsets');
  const offsets = Array.from(await dir.loadValue(tiled ? 'TileOffsets' : 'StripOffsets') as ArrayLike<number>, Number);
  const counts = Array.from(await dir.loadValue(tiled ? 'TileByteCounts' : 'StripByteCounts') as ArrayLike<number>, Number);
  const compression = Number(dir.getValue('Compression') ?? 1);
  const blockWidth = tiled ? image.getTileWidth() : image.getWidth();
  const blockHeight = tiled ? image.getTileHeight() : Math.min(image.getHeight(), Number(dir.getValue('RowsPerStrip') ?? image.getHeight()));
  const direct = compression === 1 && !tiled ? directOffset(offsets, counts, planeBytes) : null;
  const predictor = Number(await dir.loadValue('Predictor') ?? 1);
  const swappedPredictor = predictor === 2 && !image.littleEndian && bitsPerSample > 8;
  const decoder = compression === 1 && predictor === 1
    ? null
    : await getDecoder(compression, { tileWidth: blockWidth, tileHeight: blockHeight, predictor: swappedPredictor ? 1 : predictor, bitsPerSample, planarConfiguration: 1 });
  return { direct, littleEndian: image.littleEndian, tiled, blockWidth, blockHeight, offsets, counts, decoder, swappedPredictor };
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
    const opened = fromFile(path).then((tiff) => ({ tiff, fd: fs.openSync(path, 'r'), pages: new Map<number, Promise<PageLayout>>() }));
    open.set(index, opened);
    if (open.size > OPEN_FILES) {
      const [oldest, file] = open.entries().next().value!;
      open.delete(oldest);
      void file.then(closeFile, () => undefined);
    }
    return opened;
  };

  const layoutOf = (file: OpenFile, page: number): Promise<PageLayout> => {
    let layout = file.pages.get(page);
    if (!layout) {
      layout = file.tiff.getImage(page).then((image) => pageLayout(image, lineBytes * height, elementSize * 8));
      file.pages.set(page, layout);
    }
    return layout;
  };

  /** Reads `length` bytes at `position` of `fd` into `dest` from `at`; a short read is a truncated file. */
  const readFully = (fd: number, dest: Uint8Array, at: number, length: number, position: number): void => {
    for (let done = 0; done < length;) {
      const n = fs.readSync(fd, dest, at + done, length - done, position + done);
      if (n === 0) throw new Error(`it ends at byte ${position + done}, inside the plane's data: it was truncated`);
      done += n;
    }
  };

  /** One strip or tile, decoded (predictor undone), little-endian. */
  const block = async (file: OpenFile, layout: PageLayout, index: number): Promise<Uint8Array> => {
    const stored = new Uint8Array(Number(layout.counts[index]));
    readFully(file.fd, stored, 0, stored.length, Number(layout.offsets[index]));
    const data = layout.decoder ? new Uint8Array(await layout.decoder.decode(stored.buffer)) : stored;
    if (!layout.littleEndian && elementSize > 1) swapElements(Buffer.from(data.buffer, data.byteOffset, data.length - (data.length % elementSize)), elementSize);
    if (layout.swappedPredictor) undoHorizontalPredictor(data, layout.blockWidth, elementSize as 2 | 4 | 8);
    return data;
  };

  const readPlanes = async (z0: number, z1: number, y0: number, y1: number, dest: Uint8Array): Promise<void> => {
    const bytes = (y1 - y0) * lineBytes;
    for (let z = z0; z < z1; z++) await readPlane(z, y0, y1, dest.subarray((z - z0) * bytes, (z - z0 + 1) * bytes));
  };

  const readPlane = async (z: number, y0: number, y1: number, dest: Uint8Array): Promise<void> => {
    const [fileIndex, page] = source.planes[z]!;
    const where = `${source.files[fileIndex]!.path}${source.files.length === 1 ? ` page ${page}` : ''}`;
    try {
      const file = await fileOf(fileIndex);
      const layout = await layoutOf(file, page);
      if (layout.direct !== null) {
        readFully(file.fd, dest, 0, dest.length, layout.direct + y0 * lineBytes);
        if (!layout.littleEndian && elementSize > 1) swapElements(Buffer.from(dest.buffer, dest.byteOffset, dest.length), elementSize);
      } else {
        const { blockWidth: bw, blockHeight: bh } = layout;
        const across = Math.ceil(width / bw);
        for (let by = Math.floor(y0 / bh); by * bh < y1; by++) {
          for (let bx = 0; bx < across; bx++) {
            const data = await block(file, layout, by * across + bx);
            // A strip is as wide as the plane; a tile's row is `bw` wide, of which the plane's edge may use less.
            const rowBytes = bw * elementSize;
            const used = Math.min(bw, width - bx * bw) * elementSize;
            for (let y = Math.max(y0, by * bh); y < Math.min(y1, (by + 1) * bh); y++) {
              const from = (y - by * bh) * rowBytes;
              if (from + used > data.length) throw new Error(`a ${layout.tiled ? 'tile' : 'strip'} decoded to ${data.length} bytes, too few for its rows`);
              dest.set(data.subarray(from, from + used), (y - y0) * lineBytes + bx * bw * elementSize);
            }
          }
        }
      }
    } catch (error) {
      throw new SlabchunkError('EREAD', `could not read ${where} (plane z=${z}): ${(error as Error).message}`, { cause: error, key: source.files[fileIndex]!.path });
    }
  };

  return planeSlabReader(source, readPlanes, () => {
    for (const file of open.values()) void file.then(closeFile, () => undefined);
    open.clear();
  });
}

/** TIFF predictor 2 undone on little-endian samples: each row's samples are running sums of the stored differences. */
function undoHorizontalPredictor(data: Uint8Array, width: number, elementSize: 2 | 4 | 8): void {
  const View = elementSize === 2 ? Uint16Array : elementSize === 4 ? Uint32Array : BigUint64Array;
  const rows = Math.floor(data.length / (width * elementSize));
  const values = new View(data.buffer as ArrayBuffer, data.byteOffset, rows * width);
  for (let r = 0; r < rows; r++) {
    const row = values.subarray(r * width, (r + 1) * width);
    if (row instanceof BigUint64Array) for (let i = 1; i < width; i++) row[i] = BigInt.asUintN(64, row[i]! + row[i - 1]!);
    else for (let i = 1; i < width; i++) row[i] = row[i]! + row[i - 1]!;
  }
}

function closeFile(file: OpenFile): void {
  fs.closeSync(file.fd);
  void file.tiff.close();
}
