/**
 * TIFF and HDF5 fixtures made by libraries that are not ours: numpy draws a volume, tifffile and h5py write it,
 * libtiff's tiffcp recompresses it (LZW, zstd, PackBits: Debian's tifffile has no imagecodecs). The volume's
 * bytes (x fastest, little-endian) are the reference every test compares a store with.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const PYTHON = '/usr/bin/python3';

/** Why fixtures cannot be made here (a test skips with it), or undefined when they can. */
export function fixturesMissing(): string | undefined {
  const py = spawnSync(PYTHON, ['-c', 'import numpy, tifffile, h5py'], { encoding: 'utf8' });
  if (py.status !== 0) return `python3 with numpy, tifffile and h5py is needed (apt-get install python3-tifffile python3-h5py): ${py.stderr.trim().split('\n').pop() ?? ''}`;
  if (spawnSync('tiffcp', [], { encoding: 'utf8' }).error) return 'tiffcp is needed (apt-get install libtiff-tools)';
  return undefined;
}

/** One fixture: `kind` names how it is written; `path` (under the fixture folder) is what slabchunk is given. */
export interface FixtureSpec {
  readonly name: string;
  readonly kind:
    | 'slices' | 'multipage' | 'bigtiff' | 'tiled' | 'ome' | 'imagej' | 'bigendian'
    | 'h5' | 'h5-chunked' | 'h5-bigendian'
    /** Floats with the floating-point predictor, written by hand after TIFF Technical Note 3 (`byteorder` `<` or `>`). */
    | 'float-predictor';
  readonly byteorder?: '<' | '>';
  /** tifffile compression (`zlib`) with predictor, or h5py's (`gzip`, with shuffle). */
  readonly compression?: 'zlib' | 'gzip';
  readonly predictor?: boolean;
  /** OME / ImageJ files: channels and time points around the volume (the volume is channel `c`, time `t`). */
  readonly channels?: number;
  readonly times?: number;
  readonly c?: number;
  readonly t?: number;
  /** OME voxel size `[x, y, z]` in µm. */
  readonly voxel?: readonly [number, number, number];
}

const SCRIPT = String.raw`
import json, sys, os, struct, zlib
import numpy as np, tifffile, h5py
spec = json.load(sys.stdin)
out, dtype, (X, Y, Z), seed = spec['dir'], np.dtype(spec['dtype']), spec['shape'], spec['seed']
rng = np.random.default_rng(seed)
def draw(shape):
    if dtype.kind == 'f':
        return (rng.standard_normal(shape) * 1000).astype(dtype)
    info = np.iinfo(dtype)
    # Smooth runs among noise, so compressors have something to find.
    a = rng.integers(info.min, info.max, size=shape, dtype=dtype, endpoint=True)
    a[..., : shape[-1] // 3] = np.arange(shape[-1] // 3, dtype=dtype)
    return a
vol = draw((Z, Y, X))
with open(os.path.join(out, 'volume.raw'), 'wb') as f:
    f.write(vol.astype(dtype.newbyteorder('<')).tobytes())
for fx in spec['fixtures']:
    kind, p = fx['kind'], os.path.join(out, fx['name'])
    comp = fx.get('compression')
    kw = {}
    if comp == 'zlib':
        # The floating-point predictor (3) needs imagecodecs, which Debian's tifffile lacks.
        kw = dict(compression='zlib', predictor=fx.get('predictor', False) and dtype.kind != 'f')
    if kind == 'slices':
        os.makedirs(p)
        for z in range(Z):
            tifffile.imwrite(os.path.join(p, 'slice_%d.tif' % z), vol[z], **kw)
    elif kind in ('multipage', 'bigtiff', 'tiled', 'bigendian'):
        extra = dict(bigtiff=kind == 'bigtiff')
        if kind == 'tiled': extra['tile'] = (16, 16)
        if kind == 'bigendian': extra['byteorder'] = '>'
        tifffile.imwrite(p, vol, photometric='minisblack', **extra, **kw)
    elif kind in ('ome', 'imagej'):
        C, T = fx.get('channels', 1), fx.get('times', 1)
        full = np.stack([np.stack([vol if (c, t) == (fx.get('c', 0), fx.get('t', 0)) else draw((Z, Y, X)) for c in range(C)]) for t in range(T)])
        if kind == 'ome':
            md = {'axes': 'TCZYX'}
            if fx.get('voxel'):
                vx, vy, vz = fx['voxel']
                md.update(PhysicalSizeX=vx, PhysicalSizeY=vy, PhysicalSizeZ=vz)
            tifffile.imwrite(p, full, ome=True, metadata=md, photometric='minisblack', **kw)
        else:
            # ImageJ orders planes T, Z, C.
            tifffile.imwrite(p, np.ascontiguousarray(full.transpose(0, 2, 1, 3, 4)), imagej=True, metadata={'axes': 'TZCYX'}, **kw)
    elif kind == 'float-predictor':
        # Technical Note 3: per row, each sample's bytes most significant first, regrouped byte plane by byte
        # plane, then differenced byte by byte; deflate; one strip per page. (libtiff 4.5 writes big-endian files
        # of this kind that its own reader cannot read back, so tiffcp -B cannot make them.)
        e = fx['byteorder']
        pages = []
        for z in range(Z):
            packed = bytearray()
            for row in vol[z]:
                be = row.astype(dtype.newbyteorder('>')).tobytes()
                n = dtype.itemsize
                planes = np.frombuffer(bytes(be[s * n + k] for k in range(n) for s in range(X)), np.uint8).astype(np.int16)
                planes[1:] = (planes[1:] - planes[:-1].copy()) & 0xff
                packed += planes.astype(np.uint8).tobytes()
            pages.append(zlib.compress(bytes(packed)))
        tags = lambda z, at: [(256, 4, 1, X), (257, 4, 1, Y), (258, 3, 1, dtype.itemsize * 8), (259, 3, 1, 8), (262, 3, 1, 1),
                              (273, 4, 1, at), (277, 3, 1, 1), (278, 4, 1, Y), (279, 4, 1, len(pages[z])), (317, 3, 1, 3), (339, 3, 1, 3)]
        b = bytearray((b'II' if e == '<' else b'MM') + struct.pack(e + 'HI', 42, 8))
        ifd_bytes = 2 + 11 * 12 + 4
        at = 8 + Z * ifd_bytes
        for z in range(Z):
            b += struct.pack(e + 'H', 11)
            for tag, typ, cnt, val in tags(z, at):
                b += struct.pack(e + 'HHI', tag, typ, cnt) + (struct.pack(e + 'HH', val, 0) if typ == 3 else struct.pack(e + 'I', val))
            b += struct.pack(e + 'I', 8 + (z + 1) * ifd_bytes if z + 1 < Z else 0)
            at += len(pages[z])
        for data in pages:
            b += data
        open(p, 'wb').write(b)
    elif kind.startswith('h5'):
        with h5py.File(p, 'w') as f:
            data = vol.astype(dtype.newbyteorder('>')) if kind == 'h5-bigendian' else vol
            opts = {}
            if kind == 'h5-chunked':
                opts = dict(chunks=(min(Z, 3), min(Y, 16), min(X, 16)), compression='gzip', shuffle=True)
            f.create_dataset('/group/volume', data=data, **opts)
            f['/flat'] = vol[0]
            f['/four'] = vol.reshape(1, Z, Y, X)
`;

/** Makes `fixtures` of a volume of `shape` and `dtype` in `dir`; returns the volume's bytes. */
export function makeFixtures(dir: string, shape: readonly [number, number, number], dtype: string, fixtures: readonly FixtureSpec[], seed = 1): Buffer {
  fs.mkdirSync(dir, { recursive: true });
  execFileSync(PYTHON, ['-c', SCRIPT], { input: JSON.stringify({ dir, dtype, shape, seed, fixtures }), stdio: ['pipe', 'inherit', 'inherit'] });
  return fs.readFileSync(path.join(dir, 'volume.raw'));
}

/**
 * `tiffcp OPTIONS from to`: `-c lzw|zstd|packbits|zip` (`zip:2` horizontal predictor, `zip:3` floating-point),
 * `-8` BigTIFF, `-B` big-endian, `-t -w W -l L` tiles.
 */
export function tiffcp(from: string, to: string, options: readonly string[]): void {
  execFileSync('tiffcp', [...options, from, to], { stdio: ['ignore', 'ignore', 'pipe'] });
}
