#!/usr/bin/env bash
# Encrypted against plain archives (issue 17): wall time and peak RSS of
# backup, restore and verify of the WFM dataset (../shared/bench/wfm_dataset.sql)
# from and into PostgreSQL, plain and with --encrypt --key-file, alternating
# plain and encrypted runs on the same server so that the noise of a shared
# machine falls on both. The encrypted restore and verify include their
# pre-pass that checks every chunk's tag before anything is written
# (FORMAT.md §13, "Reading").
#
# Usage: benches/encrypt.sh [SCALE]   (default scale 3)
# Env:   RUNS=N (default 3)  JOBS=N (default 2)  BRU_BENCH_PG_URL, DATASET, OUT
set -euo pipefail
cd "$(dirname "$0")/.."
scale=${1:-3}
runs=${RUNS:-3}
jobs=${JOBS:-2}
. benches/lib.sh
bench_workdir bench-out/encrypt
need psql /usr/bin/time
build_bru
pg_server enc

wfm_db bru_bench_src
"$bru" keygen "$out/bench.key" --quiet
key=(--key-file "$out/bench.key")

one() { # plain|encrypted, then the flags that make it so
    local v=$1; shift
    measure "${v}_backup" "$bru" backup "$src" "$out/$v.db" --force --quiet --jobs "$jobs" "$@"
    fresh_db bru_bench_dst
    measure "${v}_restore" "$bru" restore "$out/$v.db" "$(url bru_bench_dst)" --quiet --jobs "$jobs" "${key[@]}"
    measure "${v}_verify" "$bru" verify "$out/$v.db" --quiet --jobs "$jobs" "${key[@]}"
}
for i in $(seq "$runs"); do
    echo "run $i/$runs" >&2
    if [ $((i % 2)) -eq 1 ]; then
        one plain; one encrypted --encrypt "${key[@]}"
    else
        one encrypted --encrypt "${key[@]}"; one plain
    fi
done
sql "DROP DATABASE IF EXISTS bru_bench_dst"
size() { stat -c %s "$out/$1.db"; }

cat <<MD
WFM dataset scale $scale ($rows rows), $server; --jobs $jobs;
$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, $(date -u +%F); medians of $runs alternating runs.
Archive: plain $(( $(size plain) / 1048576 )) MiB, encrypted $(( $(size encrypted) / 1048576 )) MiB.
Command: \`RUNS=$runs JOBS=$jobs benches/encrypt.sh $scale\`

| step | plain wall | encrypted wall | encrypted / plain | plain peak RSS | encrypted peak RSS |
|---|---|---|---|---|---|
MD
for s in backup restore verify; do
    pw=$(med "plain_$s" 2); ew=$(med "encrypted_$s" 2); pm=$(med "plain_$s" 3); em=$(med "encrypted_$s" 3)
    echo "| $s | $pw s | $ew s | $(ratio "$ew" "$pw") | $((pm / 1024)) MiB | $((em / 1024)) MiB |"
done
