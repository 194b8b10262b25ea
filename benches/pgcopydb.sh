#!/usr/bin/env bash
# PostgreSQL → PostgreSQL migration (issue 16): `bru backup` then
# `bru restore` (the archive written and read in between, a file that can be
# kept, verified and moved) next to pgcopydb's direct
# `clone --table-jobs N --index-jobs N` (Debian's package), on the WFM
# dataset (../shared/bench/wfm_dataset.sql), side by side in one run on one
# server, alternating runs, medians reported. Each copy goes into a freshly
# created database and is checked with `bru compare` against the source
# (untimed); a difference stops the script.
#
# Usage: benches/pgcopydb.sh [SCALE]          (default 3)
# Env:   RUNS=N (default 3)  JOBS=N (default 2: bru --jobs, pgcopydb's
#        --table-jobs and --index-jobs)  PGCOPYDB=path  BRU_BENCH_PG_URL,
#        DATASET, OUT (default ./bench-out/pgcopydb)
set -euo pipefail
cd "$(dirname "$0")/.."
scale=${1:-3}
runs=${RUNS:-3}
jobs=${JOBS:-2}
. benches/lib.sh
bench_workdir bench-out/pgcopydb
pgcopydb=${PGCOPYDB:-$(command -v pgcopydb || true)}
need psql pg_dump pg_restore /usr/bin/time
[ -n "$pgcopydb" ] || { echo "pgcopydb is not installed (Debian: apt-get install -y pgcopydb)" >&2; exit 1; }
build_bru
pg_server pgcopydb
wfm_db bru_cp_src

check() { # DB LABEL
    "$bru" compare "$src" "$(url "$1")" --quiet >"$out/compare-$2.txt" 2>&1 || {
        cat "$out/compare-$2.txt" >&2; echo "$2: the copy differs from its source" >&2; exit 1; }
}
one_bru() {
    fresh_db bru_cp_dst
    measure bru_backup "$bru" backup "$src" "$out/wfm.db" --force --jobs "$jobs" --quiet
    measure bru_restore "$bru" restore "$out/wfm.db" "$(url bru_cp_dst)" --jobs "$jobs" --quiet
    check bru_cp_dst bru
}
one_pgcopydb() {
    fresh_db bru_cp_dst
    rm -rf "$out/pgcopydb-dir"
    measure pgcopydb "$pgcopydb" clone --source "$src" --target "$(url bru_cp_dst)" \
        --table-jobs "$jobs" --index-jobs "$jobs" --dir "$out/pgcopydb-dir"
    check bru_cp_dst pgcopydb
}
for i in $(seq "$runs"); do
    echo "run $i/$runs" >&2
    if [ $((i % 2)) -eq 1 ]; then one_bru; one_pgcopydb; else one_pgcopydb; one_bru; fi
done
sql "DROP DATABASE IF EXISTS bru_cp_dst"

# bru's migration time of each run: its backup plus its restore.
paste -d' ' <(awk '$1=="bru_backup" {print $2}' "$out/times") <(awk '$1=="bru_restore" {print $2}' "$out/times") |
    awk '{print "bru_total", $1 + $2, 0}' >> "$out/times"
bt=$(med bru_total 2); pt=$(med pgcopydb 2)
cat <<MD
PostgreSQL → PostgreSQL, WFM dataset scale $scale ($rows rows), $server;
$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, $(date -u +%F); $($pgcopydb --version 2>/dev/null | grep -m1 'pgcopydb version'); medians of $runs alternating runs.
Command: \`RUNS=$runs JOBS=$jobs benches/pgcopydb.sh $scale\`

| step | bru | pgcopydb clone | bru / pgcopydb |
|---|---|---|---|
| backup (into an archive) | $(med bru_backup 2) s | | |
| restore (from the archive) | $(med bru_restore 2) s | | |
| **migration** | **${bt} s** | **${pt} s** | **$(ratio "$bt" "$pt")** |
| peak RSS | backup $(( $(med bru_backup 3) / 1024 )) MiB, restore $(( $(med bru_restore 3) / 1024 )) MiB | $(( $(med pgcopydb 3) / 1024 )) MiB (its largest process) | |

Commands timed: \`bru backup SRC wfm.db --force --jobs $jobs --quiet\` then \`bru restore wfm.db DST --jobs $jobs --quiet\`, against
\`pgcopydb clone --source SRC --target DST --table-jobs $jobs --index-jobs $jobs --dir DIR\`, each into a freshly created database,
each checked with \`bru compare SRC DST\` (exit 0).
MD
