#!/usr/bin/env bash
# Restore benchmark by job count: `bru restore --jobs N` next to
# `pg_restore -j N` (from a `pg_dump -Fd` dump) for N in 1 2 4, on the WFM
# dataset (../shared/bench/wfm_dataset.sql) at one or more scales, side by
# side in one run on the same machine and server: for each run, each job
# count, bru then pg_restore, each into a freshly created database; medians
# reported. Wall time and the client's peak RSS come from GNU time -v (the
# server's memory is the same server for both and is not counted).
# Prints a Markdown table per scale with ratios, for
# benches/restore-jobs-results.md and BENCHMARKS.md.
#
# Usage: benches/restore_jobs.sh [SCALE...]     (default: 3 10)
# Env:   RUNS=N          runs per tool and job count (default 3)
#        RUNS_LARGE=N    runs at scales above 3 (default RUNS)
#        JOBS_LIST="1 2 4"
#        BRU_BENCH_PG_URL=postgresql://user@host:port   an existing server
#                        (superuser; databases bru_rj_* are created there);
#                        without it a throwaway server is started with initdb
#        DATASET=FILE    (default ../shared/bench/wfm_dataset.sql)
#        OUT=DIR         work directory (default ./bench-out/restore-jobs)
set -euo pipefail
cd "$(dirname "$0")/.."
scales=${*:-3 10}
runs=${RUNS:-3}
runs_large=${RUNS_LARGE:-$runs}
jobs_list=${JOBS_LIST:-1 2 4}
. benches/lib.sh
bench_workdir bench-out/restore-jobs
need psql pg_dump pg_restore /usr/bin/time
build_bru
pg_server rj
mib() { awk -v k="$1" 'BEGIN {printf "%.0f", k / 1024}'; }

cat <<MD
Restore by job count, WFM dataset, $server;
$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, $(date -u +%F).
Command: \`RUNS=$runs RUNS_LARGE=$runs_large JOBS_LIST="$jobs_list" benches/restore_jobs.sh $scales\`

Timed, alternating (bru, then pg_restore, per job count and run), each into a freshly created database:
- \`bru restore wfm.db DST --jobs N --quiet\` (archive from \`bru backup SRC wfm.db --jobs 2\`, default chunk size)
- \`pg_restore -j N -d DST wfm.dir\` (dump from \`pg_dump -Fd -j 2 -f wfm.dir\`)

Peak RSS is the client's (bru or pg_restore), from GNU \`time -v\`.
MD

for scale in $scales; do
    n=$runs
    [ "$scale" -gt 3 ] && n=$runs_large
    fresh_db bru_rj_src
    echo "building the dataset (scale $scale)..." >&2
    t0=$(date +%s.%N)
    psql -X -q -v ON_ERROR_STOP=1 -v scale="$scale" -d "$(url bru_rj_src)" -f "$dataset" >/dev/null
    build=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.0f", b - a}')
    src=$(url bru_rj_src)
    rows=$(psql -X -A -t -d "$src" -c "SELECT sum(n_live_tup) FROM pg_stat_user_tables")
    "$bru" backup "$src" "$out/wfm.db" --force --jobs 2 --quiet
    rm -rf "$out/wfm.dir"
    pg_dump -Fd -j 2 -f "$out/wfm.dir" -d "$src"
    rm -f "$out/times"
    for i in $(seq "$n"); do
        for j in $jobs_list; do
            echo "scale $scale, run $i/$n, jobs $j" >&2
            fresh_db bru_rj_dst
            measure "bru_$j" "$bru" restore "$out/wfm.db" "$(url bru_rj_dst)" --jobs "$j" --quiet
            fresh_db bru_rj_dst
            measure "pg_$j" pg_restore -j "$j" -d "$(url bru_rj_dst)" "$out/wfm.dir"
        done
    done
    sql "DROP DATABASE IF EXISTS bru_rj_dst"
    cat <<MD

### Scale $scale: $rows rows, medians of $n run(s) (dataset built in ${build} s; archive $(mib "$(( $(stat -c %s "$out/wfm.db") / 1024 ))") MiB, pg_dump -Fd $(mib "$(du -sk "$out/wfm.dir" | cut -f1)") MiB)

| jobs | bru restore | pg_restore | bru / pg_restore | bru peak RSS | pg_restore peak RSS |
|---|---|---|---|---|---|
MD
    for j in $jobs_list; do
        b=$(med "bru_$j" 2); p=$(med "pg_$j" 2)
        echo "| $j | ${b} s | ${p} s | $(ratio "$b" "$p") | $(mib "$(med "bru_$j" 3)") MiB | $(mib "$(med "pg_$j" 3)") MiB |"
    done
    cp "$out/times" "$out/times-scale-$scale"
done
