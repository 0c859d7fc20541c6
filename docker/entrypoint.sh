#!/bin/sh
# Container entry point: every service runs one `ecmo` subcommand (compose.yaml: `command: [serve, …]`).
# Waits for the database before starting, so services can be started in any order.
set -eu

tries=0
until ecmo check --database default >/dev/null 2>&1; do
    tries=$((tries + 1))
    if [ "$tries" -ge 60 ]; then
        echo "database not reachable after 60 s: $(ecmo check --database default 2>&1 | tail -1)" >&2
        exit 1
    fi
    sleep 1
done

exec ecmo "$@"
