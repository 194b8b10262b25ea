#!/usr/bin/env bash
# Old against new bru, alternating on the same files: wall time and peak RSS
# of backup and restore, PostgreSQL and SQLite, at one --jobs, on the WFM
# dataset (../shared/bench/wfm_dataset.sql). For measuring one change to
# memory or speed (issue 16's rule: alternate the old and the new binary).
#
# Usage: OLD=/path/to/old/bru benches/abmem.sh [SCALE]   (default scale 3)
#        NEW defaults to this checkout's release build.
# Env:   RUNS=N (default 3)  JOBS=N (default 2)  BRU_BENCH_PG_URL, DATASET, OUT
# Both binaries run with MIMALLOC_PURGE_DELAY unset, so each uses its own
# built-in allocator settings.
set -euo pipefail
cd "$(dirname "$0")/.."
scale=${1:-3}
runs=${RUNS:-3}
jobs=${JOBS:-2}
[ -n "${OLD:-}" ] && [ -x "$OLD" ] || { echo "set OLD to the old bru binary" >&2; exit 1; }
. benches/lib.sh
bench_workdir bench-out/abmem
need psql /usr/bin/time
build_bru
new=${NEW:-$bru}
pg_server pg

wfm_db bru_bench_src
"$new" backup "$src" "$out/seed.db" --quiet
"$new" restore "$out/seed.db" "sqlite://$out/src.sqlite" --quiet
rm -f "$out/seed.db"

one() { # which binary
    local v=$1 b=$2
    measure "${v}_pg_backup" env -u MIMALLOC_PURGE_DELAY "$b" backup "$src" "$out/pg.db" --force --quiet --jobs "$jobs"
    fresh_db bru_bench_dst
    measure "${v}_pg_restore" env -u MIMALLOC_PURGE_DELAY "$b" restore "$out/pg.db" "$(url bru_bench_dst)" --quiet --jobs "$jobs"
    measure "${v}_sqlite_backup" env -u MIMALLOC_PURGE_DELAY "$b" backup "sqlite://$out/src.sqlite" "$out/sq.db" --force --quiet --jobs "$jobs"
    rm -f "$out/dst.sqlite"
    measure "${v}_sqlite_restore" env -u MIMALLOC_PURGE_DELAY "$b" restore "$out/sq.db" "sqlite://$out/dst.sqlite" --quiet --jobs "$jobs"
}
for i in $(seq "$runs"); do
    echo "run $i/$runs" >&2
    if [ $((i % 2)) -eq 1 ]; then one old "$OLD"; one new "$new"; else one new "$new"; one old "$OLD"; fi
done
sql "DROP DATABASE IF EXISTS bru_bench_dst"

cat <<MD
WFM dataset scale $scale ($rows rows), $server; --jobs $jobs;
$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, $(date -u +%F); medians of $runs alternating runs of old and new.
Command: \`OLD=... RUNS=$runs JOBS=$jobs benches/abmem.sh $scale\`

| step | old wall | new wall | new / old | old peak RSS | new peak RSS | new / old |
|---|---|---|---|---|---|---|
MD
for s in pg_backup pg_restore sqlite_backup sqlite_restore; do
    ow=$(med "old_$s" 2); nw=$(med "new_$s" 2); om=$(med "old_$s" 3); nm=$(med "new_$s" 3)
    echo "| $s | $ow s | $nw s | $(ratio "$nw" "$ow") | $((om / 1024)) MiB | $((nm / 1024)) MiB | $(ratio "$nm" "$om") |"
done
