#!/usr/bin/env bash
# Services some tests use: a PostgreSQL server binary (the tests start their own throwaway server in a
# temporary directory as an unprivileged user, and skip with a stated reason when no binary exists).
set -euo pipefail
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; then
    exit 0
fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
else
    echo "PostgreSQL server binaries not found; the PostgreSQL tests will be skipped" >&2
fi
