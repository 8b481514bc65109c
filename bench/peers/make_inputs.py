"""Writes a raw F-layout volume out as the inputs bench/inputs.ts converts: a folder of uncompressed TIFF slices,
a multi-page BigTIFF (deflate, horizontal predictor) and an HDF5 dataset (chunked, deflate), slab by slab with
tifffile and h5py, so no copy of the whole volume is held.

    python3 make_inputs.py volume.raw OUTDIR --shape X,Y,Z [--dtype uint16]
"""
import argparse
import os

import h5py
import numpy as np
import tifffile

from common import DTYPES, vec3


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("input")
    p.add_argument("out")
    p.add_argument("--shape", type=vec3, required=True)
    p.add_argument("--dtype", default="uint16", choices=sorted(DTYPES))
    args = p.parse_args()
    x, y, z = args.shape
    vol = np.memmap(args.input, dtype=np.dtype(DTYPES[args.dtype]), mode="r", shape=(z, y, x))
    slices = os.path.join(args.out, "slices")
    os.makedirs(slices, exist_ok=True)
    for k in range(z):
        tifffile.imwrite(os.path.join(slices, "slice_%05d.tif" % k), vol[k])
    with tifffile.TiffWriter(os.path.join(args.out, "stack-deflate.btf"), bigtiff=True) as tif:
        for k in range(z):
            tif.write(vol[k], compression="zlib", predictor=True, photometric="minisblack", contiguous=False)
    with h5py.File(os.path.join(args.out, "volume.h5"), "w") as f:
        d = f.create_dataset("/volume", shape=(z, y, x), dtype=vol.dtype, chunks=(16, 256, 256), compression="gzip", compression_opts=4)
        for k in range(0, z, 16):
            d[k:k + 16] = vol[k:k + 16]


if __name__ == "__main__":
    main()
