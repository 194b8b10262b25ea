#!/usr/bin/env bash
# bru against an earlier bru: the binary of this checkout next to the one
# built from REV, on the same files, alternating runs in one run of the
# script, medians and ratios (this / REV) reported. For refactors that must
# not cost speed or memory: a ratio within noise of 1.00 is the goal.
#
# Workloads: SQLite backup and restore of the seeded fixture (scale
# SQLITE_SCALE), PostgreSQL backup and restore (--jobs JOBS) of the WFM
# dataset (../shared/bench/wfm_dataset.sql, scale PG_SCALE) on a throwaway
# server from initdb.
#
# Usage: benches/ab.sh REV            (e.g. benches/ab.sh baa7ad2)
# Env:   RUNS=N (default 5)  JOBS=N (default 2)  SQLITE_SCALE (default 10)
#        PG_SCALE (default 3)  BASE_BRU=path (a bru binary of REV, instead of
#        building one)  OUT=DIR (default ./bench-out/ab)
set -euo pipefail
cd "$(dirname "$0")/.."
rev=${1:?usage: benches/ab.sh REV}
runs=${RUNS:-5}
jobs=${JOBS:-2}
sqlite_scale=${SQLITE_SCALE:-10}
pg_scale=${PG_SCALE:-3}
. benches/lib.sh
bench_workdir bench-out/ab

build_bru
cargo build --release -q -p bru-fixtures --bin bru-fixture
new=$bru
fixture=$PWD/target/release/bru-fixture
if [ -n "${BASE_BRU:-}" ]; then
    base=$BASE_BRU
else
    git worktree add -f --detach "$out/base-src" "$rev" >/dev/null
    (cd "$out/base-src" && CARGO_TARGET_DIR="$out/base-target" cargo build --release -q --bin bru)
    base=$out/base-target/release/bru
    git worktree remove --force "$out/base-src"
fi

# --- SQLite ------------------------------------------------------------------
"$fixture" --scale "$sqlite_scale" --seed 1 "$out/wfm.sqlite" >/dev/null
for i in $(seq "$runs"); do
    echo "sqlite run $i/$runs" >&2
    for v in new base; do
        tool=${!v}
        measure "sqlite_backup_$v" "$tool" backup "sqlite://$out/wfm.sqlite" "$out/s-$v.db" --force --quiet
        rm -f "$out/r-$v.sqlite"
        measure "sqlite_restore_$v" "$tool" restore "$out/s-$v.db" "sqlite://$out/r-$v.sqlite" --quiet
    done
done

# --- PostgreSQL --------------------------------------------------------------
pg_server ab
fresh_db bru_ab_src
echo "building the PostgreSQL dataset (scale $pg_scale)..." >&2
psql -X -q -v ON_ERROR_STOP=1 -v scale="$pg_scale" -d "$(url bru_ab_src)" -f "$dataset" >/dev/null
src=$(url bru_ab_src)
for i in $(seq "$runs"); do
    echo "postgres run $i/$runs" >&2
    for v in new base; do
        tool=${!v}
        measure "pg_backup_$v" "$tool" backup "$src" "$out/p-$v.db" --force --jobs "$jobs" --quiet
        fresh_db bru_ab_r
        measure "pg_restore_$v" "$tool" restore "$out/p-$v.db" "$(url bru_ab_r)" --jobs "$jobs" --quiet
    done
done
sql "DROP DATABASE IF EXISTS bru_ab_r"

row() {
    local n b
    n=$(med "$1_new" "$2"); b=$(med "$1_base" "$2")
    echo "| $1 | $n | $b | $(ratio "$n" "$b") |"
}
cat <<MD
bru at $(git rev-parse --short HEAD)$(git diff --quiet || echo ' (with uncommitted changes)') next to bru at $rev; $(nproc) cores, $(date -u +%F);
medians of $runs alternating runs. SQLite fixture scale $sqlite_scale; PostgreSQL WFM dataset scale $pg_scale, --jobs $jobs, $server.
Command: \`RUNS=$runs JOBS=$jobs SQLITE_SCALE=$sqlite_scale PG_SCALE=$pg_scale benches/ab.sh $rev\`

| wall seconds | this | $rev | this / $rev |
|---|---|---|---|
$(for w in sqlite_backup sqlite_restore pg_backup pg_restore; do row $w 2; done)

| peak RSS KiB | this | $rev | this / $rev |
|---|---|---|---|
$(for w in sqlite_backup sqlite_restore pg_backup pg_restore; do row $w 3; done)
MD
