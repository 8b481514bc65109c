"""Shared argument parsing and raw-file reading for the Python peer writers and the reader.

The raw file is F layout (x fastest, Z-slab after Z-slab) unless --order C; either way the Zarr
array mirrors the file's axes slowest first (DESIGN.md): F -> (Z, Y, X), C -> (X, Y, Z).
"""
import argparse
import json
import resource
import sys

import numpy as np

DTYPES = {
    "bool": "|b1", "int8": "|i1", "uint8": "|u1", "int16": "<i2", "uint16": "<u2",
    "int32": "<i4", "uint32": "<u4", "int64": "<i8", "uint64": "<u8",
    "float32": "<f4", "float64": "<f8",
}


def vec3(text):
    parts = [int(p) for p in text.split(",")]
    if len(parts) != 3:
        raise argparse.ArgumentTypeError(f"need X,Y,Z, got {text!r}")
    return parts


def codec(text):
    """'raw', 'zstd:3', 'gzip:5' -> (name, level)."""
    name, _, level = text.partition(":")
    if name not in ("raw", "zstd", "gzip"):
        raise argparse.ArgumentTypeError(f"codec must be raw, zstd[:level] or gzip[:level], got {text!r}")
    default = {"raw": None, "zstd": 3, "gzip": 5}[name]
    return name, int(level) if level else default


def writer_args(description):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("input", help="raw volume file")
    p.add_argument("store", help="Zarr store directory to create")
    p.add_argument("--shape", type=vec3, required=True, help="X,Y,Z")
    p.add_argument("--dtype", default="uint16", choices=sorted(DTYPES))
    p.add_argument("--chunk", type=vec3, default=[64, 64, 64], help="X,Y,Z")
    p.add_argument("--codec", type=codec, default=("raw", None))
    return p


def array_shape(shape, order="F"):
    """Zarr array shape for a raw [X, Y, Z] volume, axes slowest first as in the file."""
    x, y, z = shape
    return (z, y, x) if order == "F" else (x, y, z)


def slab_rows(path, shape, dtype, depth):
    """Yields (z0, z1, array of shape (z1-z0, Y, X)) reading `depth` slabs at a time from an F-layout file."""
    x, y, z = shape
    dt = np.dtype(DTYPES[dtype])
    slab = x * y
    with open(path, "rb") as f:
        for z0 in range(0, z, depth):
            z1 = min(z, z0 + depth)
            data = np.fromfile(f, dtype=dt, count=slab * (z1 - z0))
            yield z0, z1, data.reshape(z1 - z0, y, x)


def peak_rss_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def report(seconds):
    json.dump({"seconds": seconds, "peakRssBytes": peak_rss_bytes()}, sys.stdout)
    sys.stdout.write("\n")
