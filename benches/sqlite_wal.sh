#!/usr/bin/env bash
# A SQLite source in WAL mode, old against new bru, alternating on the same
# file: wall time and peak RSS of `bru backup --jobs N`. For issue 16's
# several readers on one WAL snapshot (crates/sqlite/src/snapshot.rs): an
# older bru reads a WAL file with one connection.
#
# The file is the WFM dataset (../shared/bench/wfm_dataset.sql), built in a
# throwaway PostgreSQL server and restored into SQLite, then switched to
# WAL. Two cases: the WAL idle (no other connection: the first reader reads
# the database file), and the WAL held open by another process that has
# committed a transaction into it and keeps its connection (the snapshot
# handle case).
#
# Usage: OLD=/path/to/old/bru benches/sqlite_wal.sh [SCALE]   (default 3)
#        NEW defaults to this checkout's release build.
# Env:   RUNS=N (default 3)  JOBS=N (default 2)  BRU_BENCH_PG_URL, DATASET, OUT
set -euo pipefail
cd "$(dirname "$0")/.."
scale=${1:-3}
runs=${RUNS:-3}
jobs=${JOBS:-2}
[ -n "${OLD:-}" ] && [ -x "$OLD" ] || { echo "set OLD to the old bru binary" >&2; exit 1; }
. benches/lib.sh
bench_workdir bench-out/sqlite_wal
need psql sqlite3 /usr/bin/time
build_bru
new=${NEW:-$bru}
pg_server pg

wfm_db bru_bench_src
"$new" backup "$src" "$out/seed.db" --quiet --force
rm -f "$out/wal.sqlite" "$out/wal.sqlite-wal" "$out/wal.sqlite-shm"
"$new" restore "$out/seed.db" "sqlite://$out/wal.sqlite" --quiet
rm -f "$out/seed.db"
sqlite3 "$out/wal.sqlite" "PRAGMA journal_mode = WAL;" >/dev/null
rows=$(sqlite3 "$out/wal.sqlite" "SELECT (SELECT count(*) FROM schedule_activity) + (SELECT count(*) FROM interval_stats) + (SELECT count(*) FROM audit_log)")

one() { # case label binary
    local c=$1 v=$2 b=$3
    measure "${c}_${v}" "$b" backup "sqlite://$out/wal.sqlite" "$out/out.db" --force --quiet --jobs "$jobs"
}
runs_of() { # case
    for i in $(seq "$runs"); do
        echo "$1: run $i/$runs" >&2
        if [ $((i % 2)) -eq 1 ]; then one "$1" old "$OLD"; one "$1" new "$new"; else one "$1" new "$new"; one "$1" old "$OLD"; fi
    done
}
runs_of idle
# Another process commits into the WAL and keeps its connection open.
fifo=$out/holder.fifo
rm -f "$fifo"; mkfifo "$fifo"
sqlite3 "$out/wal.sqlite" < "$fifo" >/dev/null &
holder=$!
exec 3>"$fifo"
echo "CREATE TABLE IF NOT EXISTS bench_holder (x); INSERT INTO bench_holder VALUES (1);" >&3
sleep 1
runs_of held
exec 3>&-
wait "$holder" || true
rm -f "$fifo"

cat <<MD
WFM dataset scale $scale restored into SQLite in WAL mode ($rows rows in its three largest tables, $(du -m "$out/wal.sqlite" | cut -f1) MB); \`bru backup --jobs $jobs\`;
$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, $(date -u +%F); medians of $runs alternating runs of old and new.
Command: \`OLD=... RUNS=$runs JOBS=$jobs benches/sqlite_wal.sh $scale\`

| WAL | old wall | new wall | new / old | old peak RSS | new peak RSS | new / old |
|---|---|---|---|---|---|---|
MD
for c in idle held; do
    ow=$(med "${c}_old" 2); nw=$(med "${c}_new" 2); om=$(med "${c}_old" 3); nm=$(med "${c}_new" 3)
    echo "| $c | $ow s | $nw s | $(ratio "$nw" "$ow") | $((om / 1024)) MiB | $((nm / 1024)) MiB | $(ratio "$nm" "$om") |"
done
