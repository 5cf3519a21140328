#!/bin/sh
# Install Microsoft's SARIF Multitool (the npm package @microsoft/sarif-multitool, a self-contained
# .NET build: no .NET runtime needed) into .tools/sarif-multitool for the SARIF tests
# (tests/report/test_report_sarif_multitool.py). Idempotent: does nothing when that version is
# there and runs. Needs node and npm; the tool itself runs offline.
set -eu

VERSION=5.7.0
DIR="${1:-.tools/sarif-multitool}"
case "$(uname -m)" in
    x86_64|aarch64|arm64) ;;
    *) echo "install-sarif-multitool.sh: no SARIF Multitool build for $(uname -m)" >&2; exit 1 ;;
esac
case "$(uname -s)" in
    Linux) PLATFORM=linux ;;
    Darwin) PLATFORM=darwin ;;
    *) echo "install-sarif-multitool.sh: unsupported system $(uname -s)" >&2; exit 1 ;;
esac
TOOL="$DIR/node_modules/@microsoft/sarif-multitool-$PLATFORM/Sarif.Multitool"

if [ -x "$TOOL" ] && "$TOOL" --version 2>&1 | grep -q "Multitool $VERSION"; then
    exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "install-sarif-multitool.sh: npm is needed (Debian: apt-get install npm)" >&2
    exit 1
fi

echo "install-sarif-multitool.sh: installing @microsoft/sarif-multitool@$VERSION into $DIR" >&2
mkdir -p "$DIR"
npm install --prefix "$DIR" --no-save --no-audit --no-fund --loglevel=error \
    "@microsoft/sarif-multitool@$VERSION"
# the package's postinstall only does this, and npm may be set not to run install scripts
chmod u+x "$TOOL"
"$TOOL" --version >/dev/null 2>&1
