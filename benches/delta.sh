#!/usr/bin/env bash
# Two-step migration cut-over, PostgreSQL → PostgreSQL, both methods on one
# server with wal_level = logical: a full `bru backup --slot` + `bru restore`
# versus, after changing a share of the rows of big tables, the cut-over
# `bru backup --since` + `bru restore DELTA` taken from the change slot
# (fast path; the chain's last delta, which drops the slot) and with `--generic` (bru reads and sums every table), side
# by side in one run on the same dataset (../shared/bench/wfm_dataset.sql).
# Alternating runs, medians; prints a Markdown table with the ratios for
# BENCHMARKS.md.
#
# Each run: back up with a new slot, restore the full archive into two fresh
# targets (one timed), change PCT % of the rows of each changed table
# (updates spread evenly over the key range, plus as many inserts and a
# tenth as many deletes), take both deltas (which goes first alternates),
# apply each to its target, and check both with `bru compare` (exit 0; not
# timed).
#
# Usage: benches/delta.sh [SCALE]       (default scale 3, ~2.8 M rows)
# Env:   RUNS=N   runs (default 3)      JOBS=N  --jobs of bru (default 2)
#        PCT=P    percent of rows changed (default 1)
#        DIST=spread|recent  which rows change: spread evenly over the key
#                 range (default) or the newest ones (see change below)
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
dist=${DIST:-spread}
case $dist in spread|recent) ;; *) echo "DIST is spread or recent" >&2; exit 1 ;; esac
. benches/lib.sh
bench_workdir bench-out/delta
need psql /usr/bin/time
build_bru
PG_OPTS="-c wal_level=logical -c max_replication_slots=4" pg_server pg

wfm_db bru_bench_src

# The rows a run changes, as SQL predicates on the key `id`: spread evenly
# over the key range (every page of the table gets a change: the worst case
# for the target, whose every page is then written again) or the most
# recent ones (a WFM database's changes are this week's schedules and
# today's audit trail: a few pages at the end of each table).
change() {
    local round=$1 m=$((100 / pct)) upd ins del
    for t in $tables; do
        if [ "$dist" = recent ]; then
            # The newest 2 × PCT % of the rows: every second one updated,
            # the others copied as new rows, one in twenty deleted.
            local lo
            lo=$(psql -X -A -t -d "$src" -c "SELECT max(id) - 2 * count(*) * $pct / 100 FROM $t")
            upd="id > $lo AND id % 2 = 0"; ins="id > $lo AND id % 2 = 1"; del="id > $lo AND id % 20 = 3"
        else
            upd="id % $m = $round"; ins="id % $m = $round + 1"; del="id % $((10 * m)) = $round + 2"
        fi
        case $t in
            schedule_activity)
                psql -X -q -v ON_ERROR_STOP=1 -d "$src" -c "
UPDATE schedule_activity SET minutes = minutes + 1, note = 'changed in round $round' WHERE $upd;
INSERT INTO schedule_activity (agent_id, day, starts_at, minutes, activity_code, paid, note)
SELECT agent_id, day + 1000, starts_at + interval '1000 days', minutes, activity_code, paid, 'new'
  FROM schedule_activity WHERE $ins;
DELETE FROM schedule_activity WHERE $del;" ;;
            audit_log)
                psql -X -q -v ON_ERROR_STOP=1 -d "$src" -c "
UPDATE audit_log SET detail = detail || ' (corrected)' WHERE $upd;
INSERT INTO audit_log (at, actor, action, detail)
SELECT at + interval '1 year', actor, action, 'new' FROM audit_log WHERE $ins;
DELETE FROM audit_log WHERE $del;" ;;
            *) echo "no change script for table $t" >&2; exit 1 ;;
        esac
    done
}

cutover() { # METHOD TARGET [OPTIONS]
    local m=$1 t=$2; shift 2
    measure "${m}_backup" "$bru" backup "$src" "$out/$m.db" --since "$out/base.db" --force --jobs "$jobs" "$@"
    measure "${m}_apply" "$bru" restore "$out/$m.db" "$(url "$t")" --jobs "$jobs" --quiet
    "$bru" compare "$src" "$(url "$t")" --quiet || { echo "compare found differences ($m)" >&2; exit 1; }
    awk '/^[a-z_.]+ +[0-9]+ / {s += $2} END {print "'"${m}"'_rows", s, 0}' "$out/stdout-${m}_backup.txt" >> "$out/times"
}
for i in $(seq "$runs"); do
    echo "run $i/$runs" >&2
    # Full migration of the current source, with a new change slot.
    "$bru" backup "$src" --drop-slot bru_bench --quiet 2>/dev/null || true
    measure full_backup "$bru" backup "$src" "$out/base.db" --force --jobs "$jobs" --quiet --slot bru_bench
    fresh_db bru_bench_dst
    measure full_restore "$bru" restore "$out/base.db" "$(url bru_bench_dst)" --jobs "$jobs" --quiet
    fresh_db bru_bench_dst2
    "$bru" restore "$out/base.db" "$(url bru_bench_dst2)" --jobs "$jobs" --quiet
    # The writers' changes, then both cut-overs.
    change "$i"
    if [ $((i % 2)) -eq 1 ]; then
        cutover generic bru_bench_dst --generic
        cutover slot bru_bench_dst2 --drop-slot bru_bench
    else
        cutover slot bru_bench_dst2 --drop-slot bru_bench
        cutover generic bru_bench_dst --generic
    fi
done
"$bru" backup "$src" --drop-slot bru_bench --quiet 2>/dev/null || true
sql "DROP DATABASE IF EXISTS bru_bench_dst"
sql "DROP DATABASE IF EXISTS bru_bench_dst2"

fb=$(med full_backup 2); fr=$(med full_restore 2)
gb=$(med generic_backup 2); ga=$(med generic_apply 2)
sb=$(med slot_backup 2); sa=$(med slot_apply 2)
full=$(awk -v a="$fb" -v b="$fr" 'BEGIN {print a + b}')
gcut=$(awk -v a="$gb" -v b="$ga" 'BEGIN {print a + b}')
scut=$(awk -v a="$sb" -v b="$sa" 'BEGIN {print a + b}')
cat <<MD
PostgreSQL → PostgreSQL, WFM dataset scale $scale ($rows rows), $server, wal_level = logical;
$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, $(date -u +%F); medians of $runs alternating runs.
Changed per run: $pct % of the rows of each of $tables (updates, $dist), as many inserts, a tenth as many deletes.
Command: \`RUNS=$runs JOBS=$jobs PCT=$pct DIST=$dist benches/delta.sh $scale\`

| step | full migration | cut-over, change slot | slot / full | cut-over, \`--generic\` | generic / full |
|---|---|---|---|---|---|
| backup wall time | ${fb} s | ${sb} s | $(ratio "$sb" "$fb") | ${gb} s | $(ratio "$gb" "$fb") |
| restore wall time | ${fr} s | ${sa} s | $(ratio "$sa" "$fr") | ${ga} s | $(ratio "$ga" "$fr") |
| **backup + restore** | **${full} s** | **${scut} s** | **$(ratio "$scut" "$full")** | **${gcut} s** | **$(ratio "$gcut" "$full")** |
| peak RSS, backup | $(med full_backup 3) KiB | $(med slot_backup 3) KiB | | $(med generic_backup 3) KiB | |
| peak RSS, restore | $(med full_restore 3) KiB | $(med slot_apply 3) KiB | | $(med generic_apply 3) KiB | |
| rows in the archive | $rows | $(med slot_rows 2) | | $(med generic_rows 2) | |

Every delta was applied and \`bru compare SRC DST\` found each target equal (exit 0).
MD
