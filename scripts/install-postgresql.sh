#!/bin/sh
# Install Debian's PostgreSQL server binaries for the store tests (tests/store/), which start a
# throw-away server of their own (initdb + pg_ctl in a temp dir, as the `postgres` user when run
# as root). Idempotent: does nothing when initdb and pg_ctl are on PATH or in Debian's
# /usr/lib/postgresql/<version>/bin. No system-wide cluster is created or started.
# Needs root (CI runs as root); as another user it uses sudo when available.
set -eu

if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    exit 0
fi
for bin in /usr/lib/postgresql/*/bin; do
    if [ -x "$bin/initdb" ] && [ -x "$bin/pg_ctl" ]; then
        exit 0
    fi
done

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "install-postgresql.sh: need root (or sudo) to apt-get install postgresql" >&2
        exit 1
    fi
fi

echo "install-postgresql.sh: installing Debian's postgresql (used by the store tests)" >&2
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
# postgresql-common first, told not to create the default cluster: the tests make their own.
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    postgresql-common
$SUDO mkdir -p /etc/postgresql-common/createcluster.d
echo "create_main_cluster = false" | $SUDO tee /etc/postgresql-common/createcluster.d/auditor-tests.conf >/dev/null
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    postgresql
ls /usr/lib/postgresql/*/bin/initdb >/dev/null
