#!/usr/bin/env bash
# Where the memory of a PostgreSQL backup and restore goes: peak RSS, wall
# time and archive size by --jobs and --chunk-size, on the WFM dataset
# (../shared/bench/wfm_dataset.sql). Peak RSS that grows with the chunk size
# is the in-flight window (chunks held compressed, raw and decoded); what is
# left at a small chunk size is the fixed part (connections, zstd contexts,
# the archive's SQLite cache, the allocator). Alternating chunk sizes within
# each round, medians.
#
# Usage: benches/memsweep.sh [SCALE]            (default scale 3)
# Env:   RUNS=N (default 3)  JOBS="1 2 4"  CHUNKS="1MiB 2MiB 4MiB"
#        BRU_BENCH_PG_URL, DATASET, OUT: as for benches/pg.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scale=${1:-3}
runs=${RUNS:-3}
jobs_list=${JOBS:-"1 2 4"}
chunks=${CHUNKS:-"1MiB 2MiB 4MiB"}
. benches/lib.sh
bench_workdir bench-out/memsweep
need psql /usr/bin/time
build_bru
pg_server pg

wfm_db bru_bench_src

for i in $(seq "$runs"); do
    echo "run $i/$runs" >&2
    for j in $jobs_list; do
        for c in $chunks; do
            measure "b_${j}_$c" "$bru" backup "$src" "$out/a.db" --force --quiet --jobs "$j" --chunk-size "$c"
            echo "s_${j}_$c $(stat -c %s "$out/a.db") 0" >> "$out/times"
            fresh_db bru_bench_dst
            measure "r_${j}_$c" "$bru" restore "$out/a.db" "$(url bru_bench_dst)" --quiet --jobs "$j"
        done
    done
done
sql "DROP DATABASE IF EXISTS bru_bench_dst"

cat <<MD
PostgreSQL, WFM dataset scale $scale ($rows rows), $server;
$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, $(date -u +%F); medians of $runs runs.
Command: \`RUNS=$runs benches/memsweep.sh $scale\`

| --jobs | --chunk-size | backup wall | backup peak RSS | archive | restore wall | restore peak RSS |
|---|---|---|---|---|---|---|
MD
for j in $jobs_list; do
    for c in $chunks; do
        echo "| $j | $c | $(med "b_${j}_$c" 2) s | $(( $(med "b_${j}_$c" 3) / 1024 )) MiB | $(awk -v b="$(med "s_${j}_$c" 2)" 'BEGIN {printf "%.1f MB", b / 1e6}') | $(med "r_${j}_$c" 2) s | $(( $(med "r_${j}_$c" 3) / 1024 )) MiB |"
    done
done
