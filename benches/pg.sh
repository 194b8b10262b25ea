#!/usr/bin/env bash
# PostgreSQL benchmark: `bru backup` versus `pg_dump -Fc`, and
# `bru restore --jobs N` versus `pg_restore -j N` from a `pg_dump -Fd` dump,
# on the WFM dataset (../shared/bench/wfm_dataset.sql), side by side in one
# run on the same machine and server, alternating runs, medians reported.
# Prints a Markdown table (wall time, peak RSS from GNU time -v, archive
# size, ratios) with the exact commands, for BENCHMARKS.md.
#
# Usage: benches/pg.sh [SCALE]                 (default scale 3, ~2.8 M rows)
# Env:   RUNS=N     runs per tool (default 3)
#        JOBS=N     restore jobs for both tools (default 2)
#        BRU_BENCH_PG_URL=postgresql://user@host:port   an existing server
#                   (superuser; databases bru_bench_* are created there);
#                   without it a throwaway server is started with initdb
#        DATASET=FILE  (default ../shared/bench/wfm_dataset.sql)
#        OUT=DIR    work directory (default ./bench-out/pg)
set -euo pipefail
cd "$(dirname "$0")/.."
scale=${1:-3}
runs=${RUNS:-3}
jobs=${JOBS:-2}
out=${OUT:-bench-out/pg}
dataset=${DATASET:-../shared/bench/wfm_dataset.sql}
[ -f "$dataset" ] || dataset=/work/shared/bench/wfm_dataset.sql
rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd)
for t in psql pg_dump pg_restore /usr/bin/time; do
    command -v "$t" >/dev/null || { echo "missing $t" >&2; exit 1; }
done

cargo build --release -q --bin bru
bru=$PWD/target/release/bru

# --- the server ------------------------------------------------------------
if [ -n "${BRU_BENCH_PG_URL:-}" ]; then
    base=${BRU_BENCH_PG_URL%/}
    url() { echo "$base/$1"; }
    server="existing server (BRU_BENCH_PG_URL)"
else
    initdb=$(command -v initdb || ls /usr/lib/postgresql/*/bin/initdb | tail -1)
    bin=$(dirname "$initdb")
    sock=$(mktemp -d /tmp/bru-bench-pg-XXXXXX)
    run=()
    if [ "$(id -u)" = 0 ]; then chown nobody "$sock"; run=(runuser -u nobody --); fi
    "${run[@]}" "$bin/initdb" -D "$sock/data" -U bru --auth=trust -E UTF8 --locale=C >/dev/null
    # Stock settings except where the server listens.
    "${run[@]}" "$bin/pg_ctl" -D "$sock/data" -w -s -l "$sock/server.log" \
        -o "-k $sock -c listen_addresses='' -p 5432" start
    trap '"${run[@]}" "$bin/pg_ctl" -D "$sock/data" -m immediate -s stop; rm -rf "$sock"' EXIT
    url() { echo "postgresql://bru@/$1?host=$sock&port=5432"; }
    server="throwaway server from initdb, stock settings ($("$bin/postgres" --version))"
fi
export PGCONNECT_TIMEOUT=10
sql() { psql -X -q -v ON_ERROR_STOP=1 -d "$(url postgres)" -c "$1" >/dev/null; }
fresh_db() { sql "DROP DATABASE IF EXISTS $1"; sql "CREATE DATABASE $1"; }

fresh_db bru_bench_src
echo "building the dataset (scale $scale)..." >&2
psql -X -q -v ON_ERROR_STOP=1 -v scale="$scale" -d "$(url bru_bench_src)" -f "$dataset" >/dev/null
src=$(url bru_bench_src)
rows=$(psql -X -A -t -d "$src" -c "SELECT sum(n_live_tup) FROM pg_stat_user_tables")

# measure LABEL CMD...: runs CMD under GNU time, appends "label wall_s rss_kib"
measure() {
    local label=$1; shift
    /usr/bin/time -v -o "$out/time.txt" "$@" >/dev/null 2>"$out/stderr.txt" || {
        cat "$out/stderr.txt" >&2; exit 1; }
    local wall rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,p,":"); s=0; for(i=1;i<=n;i++) s=s*60+p[i]; print s}' "$out/time.txt")
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$out/time.txt")
    echo "$label $wall $rss" >> "$out/times"
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
med() { awk -v l="$1" -v f="$2" '$1==l {print $f}' "$out/times" | median; }

# --- backup ------------------------------------------------------------------
for i in $(seq "$runs"); do
    echo "backup run $i/$runs" >&2
    measure bru_backup "$bru" backup "$src" "$out/wfm.db" --force --jobs "$jobs" --quiet
    rm -f "$out/wfm.dump"
    measure pg_dump_fc pg_dump -Fc -f "$out/wfm.dump" -d "$src"
done
bru_size=$(stat -c %s "$out/wfm.db")
pg_size=$(stat -c %s "$out/wfm.dump")
pg_dump -Fd -j "$jobs" -f "$out/wfm.dir" -d "$src"

# --- restore -----------------------------------------------------------------
for i in $(seq "$runs"); do
    echo "restore run $i/$runs" >&2
    fresh_db bru_bench_r
    measure bru_restore "$bru" restore "$out/wfm.db" "$(url bru_bench_r)" --jobs "$jobs" --quiet
    fresh_db bru_bench_r
    measure pg_restore_j pg_restore -j "$jobs" -d "$(url bru_bench_r)" "$out/wfm.dir"
done
sql "DROP DATABASE IF EXISTS bru_bench_r"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
mib() { awk -v b="$1" 'BEGIN {printf "%.1f MiB", b / 1048576}'; }
bb=$(med bru_backup 2); pb=$(med pg_dump_fc 2)
br=$(med bru_restore 2); pr=$(med pg_restore_j 2)
cat <<MD
PostgreSQL, WFM dataset scale $scale ($rows rows), $server;
$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, $(date -u +%F); medians of $runs alternating runs.
Command: \`RUNS=$runs JOBS=$jobs benches/pg.sh $scale\`

| step | bru | peer | bru / peer |
|---|---|---|---|
| backup wall time | ${bb} s | ${pb} s (\`pg_dump -Fc\`) | $(ratio "$bb" "$pb") |
| backup peak RSS | $(med bru_backup 3) KiB | $(med pg_dump_fc 3) KiB | $(ratio "$(med bru_backup 3)" "$(med pg_dump_fc 3)") |
| archive size | $(mib "$bru_size") | $(mib "$pg_size") (\`pg_dump -Fc\`) | $(ratio "$bru_size" "$pg_size") |
| restore wall time | ${br} s | ${pr} s (\`pg_restore -j $jobs\`, from \`pg_dump -Fd\`) | $(ratio "$br" "$pr") |
| restore peak RSS | $(med bru_restore 3) KiB | $(med pg_restore_j 3) KiB | $(ratio "$(med bru_restore 3)" "$(med pg_restore_j 3)") |

Commands timed:
- \`bru backup SRC wfm.db --force --jobs $jobs --quiet\` vs \`pg_dump -Fc -f wfm.dump -d SRC\`
- \`bru restore wfm.db DST --jobs $jobs --quiet\` vs \`pg_restore -j $jobs -d DST wfm.dir\` (made once with \`pg_dump -Fd -j $jobs\`), each into a freshly created database
MD
