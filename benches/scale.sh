#!/usr/bin/env bash
# Scale benchmark (issue 16): bru backup and restore by --jobs and by data
# size, PostgreSQL and SQLite, on the WFM dataset
# (../shared/bench/wfm_dataset.sql) at each scale given; with pg_dump -Fc and
# pg_restore -j 2 (from pg_dump -Fd) at every scale in the same run, so that
# the ratios against the peers can be read at each size; and rows/s, so that
# linear growth can be read down the table.
#
# Per scale: the PostgreSQL dataset is built, every --jobs of JOBS_LIST is
# measured RUNS times (backup into an archive, restore into a fresh
# database), then pg_dump/pg_restore; then the SQLite copy of the dataset is
# made with bru (restore of the PostgreSQL archive into sqlite://) and the
# same jobs measured on it (backup of the file, restore into a new file).
# Each scale's last PostgreSQL restore is checked with `bru compare` against
# its source, and each SQLite restore's row count against the source's; a
# difference stops the script. Files of a scale are removed before the next.
#
# Usage: benches/scale.sh [SCALE...]          (default: 3 10 30)
# Env:   RUNS=N (default 1)  JOBS_LIST="1 2 4"  PEER_JOBS=N (default 2)
#        BRU_BENCH_PG_URL, DATASET, OUT (default ./bench-out/scale)
# Prints a Markdown table for BENCHMARKS.md. Scale 30 needs about 15 GB of
# disk and 20 minutes on two cores.
set -euo pipefail
cd "$(dirname "$0")/.."
scales=${*:-3 10 30}
runs=${RUNS:-1}
jobs_list=${JOBS_LIST:-1 2 4}
pj=${PEER_JOBS:-2}
. benches/lib.sh
bench_workdir bench-out/scale
need psql pg_dump pg_restore sqlite3 /usr/bin/time
build_bru
pg_server scale

declare -A nrows
declare -A size
for scale in $scales; do
    wfm_db bru_scale_src
    nrows[$scale]=$rows
    for i in $(seq "$runs"); do
        for j in $jobs_list; do
            echo "scale $scale, PostgreSQL, --jobs $j, run $i/$runs" >&2
            measure "pg_backup_${scale}_$j" "$bru" backup "$src" "$out/pg.db" --force --jobs "$j" --quiet
            size[pg_$scale]=$(stat -c %s "$out/pg.db")
            fresh_db bru_scale_dst
            measure "pg_restore_${scale}_$j" "$bru" restore "$out/pg.db" "$(url bru_scale_dst)" --jobs "$j" --quiet
        done
        echo "scale $scale, pg_dump / pg_restore, run $i/$runs" >&2
        rm -f "$out/wfm.dump"
        measure "pg_dump_$scale" pg_dump -Fc -f "$out/wfm.dump" -d "$src"
        size[dump_$scale]=$(stat -c %s "$out/wfm.dump")
        rm -rf "$out/wfm.dir"
        pg_dump -Fd -j "$pj" -f "$out/wfm.dir" -d "$src"
        fresh_db bru_scale_peer
        measure "pg_restore_j_$scale" pg_restore -j "$pj" -d "$(url bru_scale_peer)" "$out/wfm.dir"
        sql "DROP DATABASE bru_scale_peer"
    done
    echo "scale $scale: bru compare of the source and the last restore" >&2
    "$bru" compare "$src" "$(url bru_scale_dst)" --quiet >"$out/compare-$scale.txt" 2>&1 || {
        cat "$out/compare-$scale.txt" >&2; echo "the restore differs from its source" >&2; exit 1; }
    sql "DROP DATABASE bru_scale_dst"
    rm -rf "$out/wfm.dump" "$out/wfm.dir"

    echo "scale $scale: the SQLite copy" >&2
    rm -f "$out/src.sqlite"
    "$bru" restore "$out/pg.db" "sqlite://$out/src.sqlite" --quiet
    rm -f "$out/pg.db"
    sql "DROP DATABASE bru_scale_src"
    count_rows() { # FILE: "table rows" lines, sorted
        local t
        for t in $(sqlite3 "$1" "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"); do
            echo "$t $(sqlite3 "$1" "SELECT count(*) FROM \"$t\"")"
        done
    }
    want=$(count_rows "$out/src.sqlite")
    for i in $(seq "$runs"); do
        for j in $jobs_list; do
            echo "scale $scale, SQLite, --jobs $j, run $i/$runs" >&2
            measure "sq_backup_${scale}_$j" "$bru" backup "sqlite://$out/src.sqlite" "$out/sq.db" --force --jobs "$j" --quiet
            size[sq_$scale]=$(stat -c %s "$out/sq.db")
            rm -f "$out/dst.sqlite"
            measure "sq_restore_${scale}_$j" "$bru" restore "$out/sq.db" "sqlite://$out/dst.sqlite" --jobs "$j" --quiet
            [ "$(count_rows "$out/dst.sqlite")" = "$want" ] || {
                echo "scale $scale --jobs $j: the SQLite restore's row counts differ from the source's" >&2; exit 1; }
        done
    done
    size[sqfile_$scale]=$(stat -c %s "$out/src.sqlite")
    rm -f "$out/src.sqlite" "$out/dst.sqlite" "$out/sq.db"
done

mb() { awk -v b="$1" 'BEGIN {printf "%.0f MB", b / 1000000}'; }
rps() { awk -v r="$1" -v s="$2" 'BEGIN {printf "%.0f k", r / s / 1000}'; }
cat <<MD
WFM dataset, $server; $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, $(date -u +%F); $runs run(s) each, medians.
Command: \`RUNS=$runs JOBS_LIST="$jobs_list" benches/scale.sh $scales\`

| engine | scale | rows | --jobs | backup wall | backup rows/s | backup peak RSS | archive | restore wall | restore rows/s | restore peak RSS |
|---|---|---|---|---|---|---|---|---|---|---|
MD
for e in pg sq; do
    for scale in $scales; do
        r=${nrows[$scale]}
        for j in $jobs_list; do
            bw=$(med "${e}_backup_${scale}_$j" 2); bm=$(med "${e}_backup_${scale}_$j" 3)
            rw=$(med "${e}_restore_${scale}_$j" 2); rm_=$(med "${e}_restore_${scale}_$j" 3)
            name=PostgreSQL; [ "$e" = sq ] && name=SQLite
            echo "| $name | $scale | $r | $j | $bw s | $(rps "$r" "$bw") | $((bm / 1024)) MiB | $(mb "${size[${e}_$scale]}") | $rw s | $(rps "$r" "$rw") | $((rm_ / 1024)) MiB |"
        done
    done
done
cat <<MD

Against the peers at each scale (bru at --jobs $pj; \`pg_dump -Fc\`; \`pg_restore -j $pj\` from \`pg_dump -Fd -j $pj\`, into a fresh database):

| scale | bru backup | pg_dump -Fc | ratio | bru archive | dump | ratio | bru restore | pg_restore -j $pj | ratio | bru restore RSS | pg_restore RSS |
|---|---|---|---|---|---|---|---|---|---|---|---|
MD
for scale in $scales; do
    bw=$(med "pg_backup_${scale}_$pj" 2); dw=$(med "pg_dump_$scale" 2)
    rw=$(med "pg_restore_${scale}_$pj" 2); pw=$(med "pg_restore_j_$scale" 2)
    echo "| $scale | $bw s | $dw s | $(ratio "$bw" "$dw") | $(mb "${size[pg_$scale]}") | $(mb "${size[dump_$scale]}") | $(ratio "${size[pg_$scale]}" "${size[dump_$scale]}") | $rw s | $pw s | $(ratio "$rw" "$pw") | $(( $(med "pg_restore_${scale}_$pj" 3) / 1024 )) MiB | $(( $(med "pg_restore_j_$scale" 3) / 1024 )) MiB |"
done
echo
for scale in $scales; do
    echo "SQLite file at scale $scale: $(mb "${size[sqfile_$scale]}")."
done
