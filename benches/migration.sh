#!/usr/bin/env bash
# SQLite → PostgreSQL migration benchmark: bru (`bru backup` of the SQLite
# file, then `bru restore` of that archive into PostgreSQL) next to pgloader
# (Debian's package), on the same SQLite file, side by side in one run on
# the same machine and server, alternating runs, medians reported.
#
# The SQLite file is the WFM dataset (../shared/bench/wfm_dataset.sql) built
# in PostgreSQL and copied into SQLite with bru itself (bru backup of the
# PostgreSQL database, bru restore into sqlite://). Each timed migration goes
# into a freshly created PostgreSQL database; after each one the row count
# of every table is checked against the SQLite file.
# Prints a Markdown table (wall time, peak RSS from GNU time -v, ratio) with
# the exact commands, for benches/migration-results.md and BENCHMARKS.md.
#
# Usage: benches/migration.sh [SCALE]            (default 3, ~2.8 M rows)
# Env:   RUNS=N     runs per tool (default 3)
#        JOBS=N     bru restore --jobs (default: bru's default, one per core)
#        PGLOADER=path   (default: pgloader from PATH)
#        DATASET=FILE    (default ../shared/bench/wfm_dataset.sql)
#        OUT=DIR    work directory (default ./bench-out/migration)
set -euo pipefail
cd "$(dirname "$0")/.."
scale=${1:-3}
runs=${RUNS:-3}
. benches/lib.sh
bench_workdir bench-out/migration
pgloader=${PGLOADER:-$(command -v pgloader || true)}
need psql sqlite3 /usr/bin/time
[ -n "$pgloader" ] || { echo "pgloader is not installed (Debian: apt-get install -y pgloader)" >&2; exit 1; }

build_bru
jobs_args=()
[ -n "${JOBS:-}" ] && jobs_args=(--jobs "$JOBS")

pg_throwaway_server mig
# pgloader spells a Unix socket directory as host "unix:DIR".
pgloader_url() { echo "postgresql://bru@unix:$sock:5432/$1"; }

# --- the SQLite copy of the dataset, made with bru ---------------------------
fresh_db bru_mig_src
echo "building the dataset (scale $scale)..." >&2
psql -X -q -v ON_ERROR_STOP=1 -v scale="$scale" -d "$(url bru_mig_src)" -f "$dataset" >/dev/null
"$bru" backup "$(url bru_mig_src)" "$out/pg.db" --quiet
sqlite_db=$out/wfm.sqlite
"$bru" restore "$out/pg.db" "sqlite://$sqlite_db" --quiet
tables=$(sqlite3 "$sqlite_db" "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
rows=0
for t in $tables; do rows=$((rows + $(sqlite3 "$sqlite_db" "SELECT count(*) FROM \"$t\""))); done
sqlite_mib=$(awk -v b="$(stat -c %s "$sqlite_db")" 'BEGIN {printf "%.0f", b / 1048576}')

# check DB: every SQLite table arrived in the public schema of DB with all its rows.
check() {
    for t in $tables; do
        local want got
        want=$(sqlite3 "$sqlite_db" "SELECT count(*) FROM \"$t\"")
        got=$(psql -X -A -t -d "$(url "$1")" -c "SELECT count(*) FROM public.\"$t\"")
        [ "$want" = "$got" ] || { echo "$2: table $t has $got rows in PostgreSQL, $want in SQLite" >&2; exit 1; }
    done
}

mib() { awk -v k="$1" 'BEGIN {printf "%.0f", k / 1024}'; }

# The bru migration is both commands, timed together (GNU time reports the
# larger peak RSS of the two, as it follows the shell's children).
export bru sqlite_db out
for i in $(seq "$runs"); do
    echo "migration run $i/$runs" >&2
    fresh_db bru_mig_dst
    dst=$(url bru_mig_dst)
    export dst
    measure bru bash -c '"$bru" backup "sqlite://$sqlite_db" "$out/x.db" --force --quiet && "$bru" restore "$out/x.db" "$dst" --quiet '"${jobs_args[*]:-}"
    check bru_mig_dst bru
    fresh_db bru_mig_dst
    cat > "$out/load.pgloader" <<CMD
LOAD DATABASE
  FROM sqlite://$sqlite_db
  INTO $(pgloader_url bru_mig_dst)
  CAST type decimal_text to numeric keep typemod,
       type jsonb_text to jsonb;
CMD
    measure pgloader "$pgloader" "$out/load.pgloader"
    check bru_mig_dst pgloader
done
sql "DROP DATABASE IF EXISTS bru_mig_dst"

b=$(med bru 2); p=$(med pgloader 2)
# Each run's bru / pgloader, the two measured back to back: on a shared,
# noisy machine their median is steadier than the ratio of the medians.
pairs=$(awk '$1=="bru" {b=$2} $1=="pgloader" {printf "%.2f\n", b / $2}' "$out/times")
pair_median=$(echo "$pairs" | median)
# Read all of it: pgloader (SBCL) aborts noisily when its output pipe closes.
pgloader_version=$("$pgloader" --version | sed -n 1p)
cat <<MD
SQLite → PostgreSQL migration, WFM dataset scale $scale ($rows rows, SQLite file ${sqlite_mib} MiB, made with \`bru backup\` + \`bru restore\` from the PostgreSQL dataset), $server;
$pgloader_version; $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, $(date -u +%F); medians of $runs alternating runs, each into a freshly created database, every table's row count checked after each run.
Command: \`RUNS=$runs${JOBS:+ JOBS=$JOBS} benches/migration.sh $scale\`

| | bru | pgloader | bru / pgloader |
|---|---|---|---|
| wall time | ${b} s | ${p} s | $(ratio "$b" "$p") (per run: $(echo $pairs | sed 's/ /, /g'); median $(printf '%.2f' "$pair_median")) |
| peak RSS | $(mib "$(med bru 3)") MiB | $(mib "$(med pgloader 3)") MiB | $(ratio "$(med bru 3)" "$(med pgloader 3)") |

Commands timed:
- bru: \`bru backup sqlite://wfm.sqlite x.db --force --quiet && bru restore x.db postgresql://bru@/DST?host=SOCK --quiet${JOBS:+ --jobs $JOBS}\` (one \`time -v\` around both)
- pgloader: \`pgloader load.pgloader\`, default options plus the two CAST rules it needs for this file:
  \`\`\`
  LOAD DATABASE FROM sqlite://wfm.sqlite INTO postgresql://bru@unix:SOCK:5432/DST
    CAST type decimal_text to numeric keep typemod, type jsonb_text to jsonb;
  \`\`\`
  Without them (\`pgloader sqlite://wfm.sqlite postgresql://…\`) pgloader stops at
  \`CREATE TABLE agent\` with \`Database error 42704: type "decimal_text" does not exist\`
  (the declared types under which bru keeps numeric and jsonb values exact in SQLite)
  and still exits 0 with no rows loaded, which is why every run's row counts are checked.
MD
