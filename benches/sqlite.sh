#!/usr/bin/env bash
# SQLite benchmark: bru backup / verify / restore versus the sqlite3 shell's
# own dump (`.dump | zstd`) and reload, on seeded WFM fixtures, in one run on
# the same machine. Reports wall time, rows/s, peak RSS (GNU time -v) and
# archive size versus database size, as a Markdown table for BENCHMARKS.md.
#
# Usage: benches/sqlite.sh [SCALE...]        (default scales: 10 50)
# Env:   RUNS=N    runs per tool, alternating bru and peer; medians reported (default 3)
#        OUT=DIR   work directory (default ./bench-out; fixtures are cached there)
set -euo pipefail
cd "$(dirname "$0")/.."
scales=("$@")
[ ${#scales[@]} -gt 0 ] || scales=(10 50)
runs=${RUNS:-3}
# The work directory keeps its fixtures between runs: not emptied.
out=${OUT:-bench-out}
mkdir -p "$out"

. benches/lib.sh
need sqlite3 zstd /usr/bin/time
build_bru
cargo build --release -q -p bru-fixtures --bin bru-fixture
fixture=target/release/bru-fixture

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); $(date -u +%F)"
echo "command: RUNS=$runs benches/sqlite.sh ${scales[*]}"
echo
echo "| scale | rows | db MB | tool | backup s | backup rows/s | backup peak RSS MB | archive MB (% of db) | verify s | restore s | restore rows/s | restore peak RSS MB |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
for scale in "${scales[@]}"; do
    db="$out/wfm-$scale.sqlite"
    [ -f "$db" ] || "$fixture" --scale "$scale" --seed 1 "$db" >/dev/null
    : > "$out/times"
    for ((i = 1; i <= runs; i++)); do
        rm -f "$out/restored.sqlite" "$out/peer.sqlite"
        measure bru_backup "$bru" backup "sqlite://$db" "$out/wfm.db" --force --quiet
        measure bru_verify "$bru" verify "$out/wfm.db" --quiet
        measure bru_restore "$bru" restore "$out/wfm.db" "sqlite://$out/restored.sqlite" --quiet
        measure peer_backup sh -c "sqlite3 '$db' .dump | zstd -q -3 -f -o '$out/dump.sql.zst'"
        measure peer_restore sh -c "zstd -q -dc '$out/dump.sql.zst' | sqlite3 '$out/peer.sqlite'"
    done
    rows=$("$bru" list "$out/wfm.db" --json | python3 -c 'import json,sys; print(sum(t["rows"] for t in json.load(sys.stdin)["tables"]))')
    dbmb=$(du -bm "$db" | cut -f1)
    dbb=$(stat -c %s "$db")
    arch=$(stat -c %s "$out/wfm.db"); dump=$(stat -c %s "$out/dump.sql.zst")
    for tool in bru peer; do
        b=$(med ${tool}_backup 2); brss=$(med ${tool}_backup 3)
        r=$(med ${tool}_restore 2); rrss=$(med ${tool}_restore 3)
        if [ $tool = bru ]; then size=$arch; v=$(med bru_verify 2); name="bru"; else size=$dump; v="-"; name="sqlite3 .dump \| zstd -3"; fi
        awk -v s="$scale" -v rows="$rows" -v dbmb="$dbmb" -v name="$name" -v b="$b" -v brss="$brss" \
            -v size="$size" -v dbb="$dbb" -v v="$v" -v r="$r" -v rrss="$rrss" 'BEGIN {
            printf "| %s | %d | %d | %s | %.2f | %.0f | %.0f | %.1f (%.0f%%) | %s | %.2f | %.0f | %.0f |\n",
                s, rows, dbmb, name, b, rows / b, brss / 1024, size / 1e6, 100 * size / dbb, v, r, rows / r, rrss / 1024 }'
    done
done
