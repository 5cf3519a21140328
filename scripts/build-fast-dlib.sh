#!/bin/sh
# Opt-in: a second virtual environment whose dlib is compiled from source against OpenBLAS with
# -O3 -march=native. Descriptors get about 5x faster than with the default dlib-bin wheel (no
# BLAS); the compile takes about 20 minutes on 2 cores, which is why the default install does
# not do it. Results can differ slightly from dlib-bin (a few face boxes moved by FMA rounding):
# the face cache keys on the build, and every report names the build it ran on.
#
# Usage: scripts/build-fast-dlib.sh [VENV]   (default .venv-fast); then use VENV/bin/auditor.
set -eu
VENV=${1:-.venv-fast}
PYTHON=${PYTHON:-python3}

if ! [ -e /usr/include/x86_64-linux-gnu/openblas-pthread/cblas.h ] && \
   ! dpkg -s libopenblas-dev >/dev/null 2>&1; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q libopenblas-dev liblapack-dev
fi

test -x "$VENV/bin/python" || "$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install -q --upgrade pip 'setuptools<81' wheel cmake
"$VENV/bin/pip" install -q -e '.[dev]'
"$VENV/bin/pip" install -q --no-deps face_recognition==1.3.0
# replace the prebuilt wheel by a native build of the same release
"$VENV/bin/pip" uninstall -q -y dlib-bin
CXXFLAGS="-O3 -march=native" CFLAGS="-O3 -march=native" \
    "$VENV/bin/pip" install --no-binary dlib --no-cache-dir dlib==20.0.1
"$VENV/bin/python" - <<'PY'
import dlib
print("dlib", dlib.__version__, "BLAS", dlib.DLIB_USE_BLAS, "LAPACK", dlib.DLIB_USE_LAPACK)
assert dlib.DLIB_USE_BLAS, "dlib was built without BLAS: is libopenblas-dev installed?"
PY
