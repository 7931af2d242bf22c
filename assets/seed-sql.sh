#!/bin/sh
# A seed Job: run one pinned SQL file with psql from the Postgres image.
# Services report healthy before their Flyway init container's tables are
# visible to everyone, so wait for the table the file needs first.
#   SEED_FILE       the file (mounted from its ConfigMap)
#   WAIT_FOR_TABLE  a table to wait for (optional)
#   PSQL_VARS       psql variable options, e.g. "-v tenant_id=pg" (optional)
# PGHOST, PGDATABASE, PGUSER and PGPASSWORD come from the Job's env.
set -eu
if [ -n "${WAIT_FOR_TABLE:-}" ]; then
    i=0
    until [ "$(psql -tAc "SELECT to_regclass('public.$WAIT_FOR_TABLE') IS NOT NULL")" = t ]; do
        i=$((i + 1))
        if [ "$i" -ge 100 ]; then
            echo "table $WAIT_FOR_TABLE did not appear in 300 s" >&2
            exit 1
        fi
        echo "waiting for table $WAIT_FOR_TABLE"
        sleep 3
    done
fi
# shellcheck disable=SC2086 # PSQL_VARS is a list of options
psql -v ON_ERROR_STOP=1 ${PSQL_VARS:-} -f "$SEED_FILE"
