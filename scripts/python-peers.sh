#!/usr/bin/env bash
# Installs the independent Zarr implementations the benches and test/interop/interop.test.ts compare against:
#   - tensorstore + numpy in a venv at .bench-data/venv (from the pip index or local mirror),
#   - Debian's python3-zarr (zarr-python 2) for the system python3 (/usr/bin/python3),
#   - Debian's python3-tifffile, python3-h5py and libtiff-tools, which make the TIFF and HDF5 fixtures.
# Each part is optional: a failure prints a skip message and the script still exits 0, because the
# benches and tests skip a reader that is absent rather than fail.
set -uo pipefail
cd "$(dirname "$0")/.."

venv=.bench-data/venv
mkdir -p .bench-data
version() { "$1" -c "import importlib.metadata as m, $2
try: print(m.version('$2'))
except m.PackageNotFoundError: print($2.__version__)" 2>/dev/null; }
# Installs Debian packages; concurrent runs (tests and benches) take turns on the package lock.
debian_install() {
  command -v apt-get >/dev/null \
    && flock /tmp/apt.lock sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $*" >/dev/null
}

if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import tensorstore, numpy' 2>/dev/null; then
  echo "python-peers: tensorstore already in $venv"
# --retries 0: offline machines reach only the local mirror; pip's retries against pypi.org cost minutes.
elif python3 -m venv "$venv" \
  && "$venv/bin/python" -m pip install --quiet --retries 0 tensorstore numpy >.bench-data/pip.log 2>&1; then
  echo "python-peers: tensorstore $(version "$venv/bin/python" tensorstore) in $venv"
else
  tail -n 5 .bench-data/pip.log 2>/dev/null
  echo "python-peers: SKIP tensorstore (could not create $venv or pip install tensorstore numpy failed)"
fi

# Debian's zarr 2 is built against Debian's numpy, so it lives in the system interpreter, not the venv
# (the venv's numpy 2 would break its compiled numcodecs).
if /usr/bin/python3 -c 'import zarr' 2>/dev/null; then
  echo "python-peers: zarr-python $(version /usr/bin/python3 zarr) already in /usr/bin/python3"
elif debian_install python3-zarr && /usr/bin/python3 -c 'import zarr' 2>/dev/null; then
  echo "python-peers: zarr-python $(version /usr/bin/python3 zarr) installed for /usr/bin/python3"
else
  echo "python-peers: SKIP zarr-python 2 (apt-get install python3-zarr failed or not root)"
fi

# The TIFF and HDF5 fixtures of the input tests and benches: tifffile and h5py write them, tiffcp recompresses them
# (Debian's tifffile has no imagecodecs, so LZW and zstd come from libtiff).
if /usr/bin/python3 -c 'import tifffile, h5py' 2>/dev/null && command -v tiffcp >/dev/null; then
  echo "python-peers: tifffile $(version /usr/bin/python3 tifffile), h5py $(version /usr/bin/python3 h5py) and tiffcp already here"
elif debian_install python3-tifffile python3-h5py libtiff-tools && /usr/bin/python3 -c 'import tifffile, h5py' 2>/dev/null; then
  echo "python-peers: tifffile $(version /usr/bin/python3 tifffile), h5py $(version /usr/bin/python3 h5py) and tiffcp installed"
else
  echo "python-peers: SKIP TIFF/HDF5 fixtures (apt-get install python3-tifffile python3-h5py libtiff-tools failed or not root)"
fi
exit 0
