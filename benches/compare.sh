#!/usr/bin/env bash
# Compare benchmark: `bru compare` of two PostgreSQL databases versus
# pgcopydb's `compare data` (Debian package pgcopydb; Debian bookworm's
# 0.10 has no compare command, so then its per-table query is run the way
# it runs it, by benches/pgcopydb_compare_data.sh), on the WFM dataset
# (../shared/bench/wfm_dataset.sql), side by side in one run on one server,
# alternating runs, medians reported; next to them one `bru backup` of the
# larger side (the issue's goal: a compare that finds nothing costs at most
# one backup) and `bru compare` after 10 rows of the largest table were
# changed (goal: at most 1.2 times the compare that finds nothing). Prints a
# Markdown table with the exact commands, for BENCHMARKS.md.
#
# Usage: benches/compare.sh [SCALE]             (default scale 3, ~2.8 M rows)
# Env:   RUNS=N     runs per command (default 3)
#        JOBS=N     bru --jobs and pgcopydb --table-jobs (default 2)
#        BRU_BENCH_PG_URL=postgresql://user@host:port   an existing server
#                   (superuser; databases bru_bench_* are created there);
#                   without it a throwaway server is started with initdb
#        DATASET=FILE  (default ../shared/bench/wfm_dataset.sql)
#        OUT=DIR    work directory (default ./bench-out/compare)
set -euo pipefail
cd "$(dirname "$0")/.."
scale=${1:-3}
runs=${RUNS:-3}
jobs=${JOBS:-2}
. benches/lib.sh
bench_workdir bench-out/compare
need psql /usr/bin/time
build_bru
pg_server compare

fresh_db bru_bench_a
echo "building the dataset (scale $scale)..." >&2
psql -X -q -v ON_ERROR_STOP=1 -v scale="$scale" -d "$(url bru_bench_a)" -f "$dataset" >/dev/null
psql -X -q -d "$(url bru_bench_a)" -c "VACUUM ANALYZE" >/dev/null
sql "DROP DATABASE IF EXISTS bru_bench_b"
sql "CREATE DATABASE bru_bench_b TEMPLATE bru_bench_a"
a=$(url bru_bench_a)
b=$(url bru_bench_b)
rows=$(psql -X -A -t -d "$a" -c "SELECT sum(n_live_tup) FROM pg_stat_user_tables")

# exit3 CMD...: runs CMD, which must exit 3 (differences found). A command,
# not a shell function, because `measure` runs it under /usr/bin/time.
exit3=(bash -c 'rc=0; "$@" || rc=$?; [ "$rc" = 3 ]' exit3)

for i in $(seq "$runs"); do
    echo "run $i/$runs" >&2
    measure bru_compare "$bru" compare "$a" "$b" --jobs "$jobs" --quiet
    rm -rf "$out/pgcopydb"
    if pgcopydb compare data --help >/dev/null 2>&1; then
        peer="pgcopydb compare data --source A --target B --dir DIR --table-jobs $jobs"
        measure pgcopydb_compare pgcopydb compare data --source "$a" --target "$b" \
            --dir "$out/pgcopydb" --table-jobs "$jobs"
    else
        peer="benches/pgcopydb_compare_data.sh A B $jobs (pgcopydb compare data's query; this pgcopydb, $(pgcopydb --version 2>&1 | grep -o 'version [0-9.]*' | head -1), has no compare command)"
        measure pgcopydb_compare benches/pgcopydb_compare_data.sh "$a" "$b" "$jobs"
    fi
    measure bru_backup "$bru" backup "$b" "$out/wfm.db" --force --jobs "$jobs" --quiet
done

# 10 changed rows, spread over the largest table.
psql -X -q -v ON_ERROR_STOP=1 -d "$b" -c "UPDATE schedule_activity SET note = 'changed by the benchmark'
    WHERE id IN (SELECT (g * (SELECT max(id) FROM schedule_activity) / 11) FROM generate_series(1, 10) g)" >/dev/null
for i in $(seq "$runs"); do
    echo "changed run $i/$runs" >&2
    measure bru_compare_10 "${exit3[@]}" "$bru" compare "$a" "$b" --jobs "$jobs"
done
named=$(grep -c "table public.schedule_activity: changed" "$out/stdout-bru_compare_10.txt" || true)

bc=$(med bru_compare 2); pc=$(med pgcopydb_compare 2); bb=$(med bru_backup 2); b10=$(med bru_compare_10 2)
cat <<MD
PostgreSQL, WFM dataset scale $scale ($rows rows), two identical databases (the second made
with CREATE DATABASE ... TEMPLATE), $server; $(nproc) cores,
$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, $(date -u +%F); medians of $runs alternating runs.
Command: \`RUNS=$runs JOBS=$jobs benches/compare.sh $scale\`

| measured | wall time | peak RSS | ratio |
|---|---|---|---|
| \`bru compare A B\`, no difference | ${bc} s | $(med bru_compare 3) KiB | |
| pgcopydb compare data, no difference | ${pc} s | $(med pgcopydb_compare 3) KiB | bru / pgcopydb: $(ratio "$bc" "$pc") |
| \`bru backup B\` (one backup of the larger side) | ${bb} s | $(med bru_backup 3) KiB | compare / backup: $(ratio "$bc" "$bb") |
| \`bru compare A B\`, 10 rows of schedule_activity changed ($named named) | ${b10} s | $(med bru_compare_10 3) KiB | changed / backup: $(ratio "$b10" "$bb"); changed / no difference: $(ratio "$b10" "$bc") |

Commands timed:
- \`bru compare A B --jobs $jobs --quiet\` (exit 0), and after the change without \`--quiet\` (exit 3)
- $peer
- \`bru backup B wfm.db --force --jobs $jobs --quiet\`
MD
