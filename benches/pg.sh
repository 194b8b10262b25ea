#!/usr/bin/env bash
# PostgreSQL benchmark: `bru backup` versus `pg_dump -Fc`, and
# `bru restore --jobs N` versus `pg_restore -j N` from a `pg_dump -Fd` dump,
# on the WFM dataset (../shared/bench/wfm_dataset.sql), side by side in one
# run on the same machine and server, alternating runs, medians reported.
# Prints a Markdown table (wall time, peak RSS from GNU time -v, archive
# size, ratios) with the exact commands, for BENCHMARKS.md; and the floor of
# a restore on this server (see below), which bru's restore is quoted
# against too.
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
. benches/lib.sh
bench_workdir bench-out/pg
need psql pg_dump pg_restore /usr/bin/time
build_bru
pg_server pg

wfm_db bru_bench_src

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

# --- the floor: the server's own COPY and index builds, over $jobs sessions --
# Each table's rows in COPY's binary form, in files the server reads itself
# (no client in the way), then a restore that is only pg_restore's schema,
# those COPYs in $jobs psql sessions (tables dealt largest first to the
# session with the fewest bytes) and pg_restore -j's indexes and
# constraints. No tool restores faster on this server than that.
[ -n "${sock:-}" ] || { echo "the floor needs the throwaway server (files on its machine): unset BRU_BENCH_PG_URL" >&2; exit 1; }
files=$sock/floor
mkdir -p "$files"
[ -n "${run[*]:-}" ] && chown nobody "$files"
declare -a lists
tot=()
for ((k = 0; k < jobs; k++)); do tot[k]=0; lists[k]=""; done
while IFS='|' read -r tab bytes; do
    psql -X -q -v ON_ERROR_STOP=1 -d "$src" -c "COPY $tab TO '$files/$tab.bin' (FORMAT binary)"
    best=0
    for ((k = 1; k < jobs; k++)); do [ "${tot[k]}" -lt "${tot[best]}" ] && best=$k; done
    tot[best]=$((tot[best] + bytes))
    lists[best]+="COPY $tab FROM '$files/$tab.bin' (FORMAT binary);"$'\n'
done < <(psql -X -A -t -d "$src" -c "SELECT format('%I.%I', schemaname, relname), pg_relation_size(relid) FROM pg_stat_user_tables ORDER BY 2 DESC")
cat > "$out/floor.sh" <<SH
set -euo pipefail
pg_restore --section=pre-data -d "\$1" "$out/wfm.dir"
SH
for ((k = 0; k < jobs; k++)); do
    printf '%s' "${lists[k]}" > "$out/floor-$k.sql"
    echo "psql -X -q -v ON_ERROR_STOP=1 -d \"\$1\" -f $out/floor-$k.sql & p$k=\$!" >> "$out/floor.sh"
done
for ((k = 0; k < jobs; k++)); do echo "wait \$p$k" >> "$out/floor.sh"; done
cat >> "$out/floor.sh" <<SH
pg_restore --section=post-data -j $jobs -d "\$1" "$out/wfm.dir"
SH

# --- restore -----------------------------------------------------------------
for i in $(seq "$runs"); do
    echo "restore run $i/$runs" >&2
    fresh_db bru_bench_r
    measure bru_restore "$bru" restore "$out/wfm.db" "$(url bru_bench_r)" --jobs "$jobs" --quiet
    fresh_db bru_bench_r
    measure pg_restore_j pg_restore -j "$jobs" -d "$(url bru_bench_r)" "$out/wfm.dir"
    fresh_db bru_bench_r
    measure floor bash "$out/floor.sh" "$(url bru_bench_r)"
done
rm -rf "$files"
sql "DROP DATABASE IF EXISTS bru_bench_r"

mib() { awk -v b="$1" 'BEGIN {printf "%.1f MiB", b / 1048576}'; }
bb=$(med bru_backup 2); pb=$(med pg_dump_fc 2)
br=$(med bru_restore 2); pr=$(med pg_restore_j 2); fl=$(med floor 2)
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
| restore against the floor | ${br} s | ${fl} s (server-side \`COPY FROM\` files in $jobs sessions + \`pg_restore -j $jobs\` indexes) | $(ratio "$br" "$fl") |

Commands timed:
- \`bru backup SRC wfm.db --force --jobs $jobs --quiet\` vs \`pg_dump -Fc -f wfm.dump -d SRC\`
- \`bru restore wfm.db DST --jobs $jobs --quiet\` vs \`pg_restore -j $jobs -d DST wfm.dir\` (made once with \`pg_dump -Fd -j $jobs\`), each into a freshly created database
MD
