#!/usr/bin/env bash
# Two-step migration cut-over, PostgreSQL → PostgreSQL, generic method (bru
# reads the tables; no logical decoding): a full `bru backup` + `bru restore`
# versus, after changing a share of the rows of big tables, the cut-over
# `bru backup --since` + `bru restore DELTA`, side by side in one run on the
# same server and dataset (../shared/bench/wfm_dataset.sql). Alternating
# runs, medians; prints a Markdown table with the ratio for BENCHMARKS.md.
#
# Each run: restore the full archive into a fresh target, change PCT % of the
# rows of each changed table (updates spread evenly over the key range, plus
# as many inserts and a tenth as many deletes), take the delta, apply it, and
# check with `bru compare` (exit 0; not timed).
#
# Usage: benches/delta.sh [SCALE]       (default scale 3, ~2.8 M rows)
# Env:   RUNS=N   runs (default 3)      JOBS=N  --jobs of bru (default 2)
#        PCT=P    percent of rows changed (default 1)
#        TABLES="t1 t2"  tables changed (default: schedule_activity audit_log,
#                 the largest and one of the two next, audit_log and
#                 interval_stats, which have as many rows)
#        BRU_BENCH_PG_URL, DATASET, OUT: as for benches/pg.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scale=${1:-3}
runs=${RUNS:-3}
jobs=${JOBS:-2}
pct=${PCT:-1}
tables=${TABLES:-"schedule_activity audit_log"}
. benches/lib.sh
bench_workdir bench-out/delta
need psql /usr/bin/time
build_bru
pg_server pg

fresh_db bru_bench_src
echo "building the dataset (scale $scale)..." >&2
psql -X -q -v ON_ERROR_STOP=1 -v scale="$scale" -d "$(url bru_bench_src)" -f "$dataset" >/dev/null
src=$(url bru_bench_src)
rows=$(psql -X -A -t -d "$src" -c "SELECT sum(n_live_tup) FROM pg_stat_user_tables")

change() {
    local round=$1
    for t in $tables; do
        case $t in
            schedule_activity)
                psql -X -q -v ON_ERROR_STOP=1 -d "$src" -c "
UPDATE schedule_activity SET minutes = minutes + 1, note = 'changed in round $round'
 WHERE id % greatest(1, (100 / $pct)::int) = $round;
INSERT INTO schedule_activity (agent_id, day, starts_at, minutes, activity_code, paid, note)
SELECT agent_id, day + 1000, starts_at + interval '1000 days', minutes, activity_code, paid, 'new'
  FROM schedule_activity WHERE id % greatest(1, (100 / $pct)::int) = $round + 1;
DELETE FROM schedule_activity WHERE id % greatest(1, (1000 / $pct)::int) = $round + 2;" ;;
            audit_log)
                psql -X -q -v ON_ERROR_STOP=1 -d "$src" -c "
UPDATE audit_log SET detail = detail || ' (corrected)' WHERE id % greatest(1, (100 / $pct)::int) = $round;
INSERT INTO audit_log (at, actor, action, detail)
SELECT at + interval '1 year', actor, action, 'new' FROM audit_log
 WHERE id % greatest(1, (100 / $pct)::int) = $round + 1;
DELETE FROM audit_log WHERE id % greatest(1, (1000 / $pct)::int) = $round + 2;" ;;
            *) echo "no change script for table $t" >&2; exit 1 ;;
        esac
    done
}

# The full archive of the first state, once (its time is measured below).
"$bru" backup "$src" "$out/base.db" --force --jobs "$jobs" --quiet
for i in $(seq "$runs"); do
    echo "run $i/$runs" >&2
    # Full migration of the current source.
    measure full_backup "$bru" backup "$src" "$out/base.db" --force --jobs "$jobs" --quiet
    fresh_db bru_bench_dst
    measure full_restore "$bru" restore "$out/base.db" "$(url bru_bench_dst)" --jobs "$jobs" --quiet
    # The writers' changes, then the cut-over.
    change "$i"
    measure delta_backup "$bru" backup "$src" "$out/delta.db" --since "$out/base.db" --force --jobs "$jobs"
    measure delta_apply "$bru" restore "$out/delta.db" "$(url bru_bench_dst)" --jobs "$jobs" --quiet
    "$bru" compare "$src" "$(url bru_bench_dst)" --quiet || { echo "compare found differences" >&2; exit 1; }
    delta_rows=$(awk '/^[a-z_.]+ +[0-9]+ / {s += $2} END {print s}' "$out/stdout-delta_backup.txt")
    echo "delta_rows $delta_rows 0" >> "$out/times"
done
sql "DROP DATABASE IF EXISTS bru_bench_dst"

fb=$(med full_backup 2); fr=$(med full_restore 2)
db=$(med delta_backup 2); da=$(med delta_apply 2)
full=$(awk -v a="$fb" -v b="$fr" 'BEGIN {print a + b}')
cut=$(awk -v a="$db" -v b="$da" 'BEGIN {print a + b}')
cat <<MD
PostgreSQL → PostgreSQL, WFM dataset scale $scale ($rows rows), $server;
$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, $(date -u +%F); medians of $runs alternating runs.
Changed per run: $pct % of the rows of each of $tables (updates), as many inserts, a tenth as many deletes.
Command: \`RUNS=$runs JOBS=$jobs PCT=$pct benches/delta.sh $scale\`

| step | full migration | cut-over (delta) | delta / full |
|---|---|---|---|
| backup wall time | ${fb} s | ${db} s (\`--since\`) | $(ratio "$db" "$fb") |
| restore wall time | ${fr} s | ${da} s (apply) | $(ratio "$da" "$fr") |
| **backup + restore** | **${full} s** | **${cut} s** | **$(ratio "$cut" "$full")** |
| peak RSS, backup | $(med full_backup 3) KiB | $(med delta_backup 3) KiB | |
| peak RSS, restore | $(med full_restore 3) KiB | $(med delta_apply 3) KiB | |
| rows in the archive | $rows | $(med delta_rows 2) | |

Every delta was applied and \`bru compare SRC DST\` found the target equal (exit 0).
MD
