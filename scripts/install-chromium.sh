#!/bin/sh
# Install Debian's headless-capable Chromium for the HTML report tests (tests/report/).
# Idempotent: does nothing when /usr/bin/chromium is already there. Needs root (CI runs as root);
# as another user it uses sudo when available.
set -eu

if [ -x /usr/bin/chromium ]; then
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "install-chromium.sh: need root (or sudo) to apt-get install chromium" >&2
        exit 1
    fi
fi

echo "install-chromium.sh: installing Debian's chromium (used by the HTML report tests)" >&2
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    chromium fonts-dejavu-core
test -x /usr/bin/chromium
