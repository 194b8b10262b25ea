#!/usr/bin/env bash
# What `pgcopydb compare data` does, for a pgcopydb without that command
# (Debian bookworm ships pgcopydb 0.10, which has none): for every ordinary
# table of A, its query (pgcopydb's src/bin/pgcopydb/schema.c,
# schema_send_table_checksum)
#   select count(1), encode(sha256(format('%s-%s',
#          sum(hashtext((cols)::text)::bigint), count(1))::bytea), 'hex')
#   from only TABLE
# run on A and on B at the same time, JOBS tables at once (its
# --table-jobs), and the two results compared. Exits 1 when a table differs.
#
# Usage: benches/pgcopydb_compare_data.sh URL_A URL_B JOBS
set -euo pipefail
a=$1 b=$2 jobs=${3:-2}
tables=$(psql -X -A -t -d "$a" -c "SELECT format('%I.%I', n.nspname, c.relname)
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
    ORDER BY pg_catalog.pg_relation_size(c.oid) DESC")
one() {
    local q="select count(1), encode(sha256(format('%s-%s', sum(hashtext(t::text)::bigint), count(1))::bytea), 'hex') from only $1 t"
    local ra rb
    ra=$(mktemp) rb=$(mktemp)
    psql -X -A -t -d "$A" -c "$q" >"$ra" & psql -X -A -t -d "$B" -c "$q" >"$rb"; wait
    if cmp -s "$ra" "$rb"; then echo "$1 $(cat "$ra")"; rm -f "$ra" "$rb"
    else echo "$1 differs: $(cat "$ra") / $(cat "$rb")"; rm -f "$ra" "$rb"; return 1; fi
}
export -f one
export A=$a B=$b
echo "$tables" | xargs -P "$jobs" -I{} bash -c 'one "$@"' _ {}
