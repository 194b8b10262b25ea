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
out=${OUT:-bench-out/migration}
dataset=${DATASET:-../shared/bench/wfm_dataset.sql}
[ -f "$dataset" ] || dataset=/work/shared/bench/wfm_dataset.sql
pgloader=${PGLOADER:-$(command -v pgloader || true)}
rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd)
for t in psql sqlite3 /usr/bin/time; do
    command -v "$t" >/dev/null || { echo "missing $t" >&2; exit 1; }
done
[ -n "$pgloader" ] || { echo "pgloader is not installed (Debian: apt-get install -y pgloader)" >&2; exit 1; }

cargo build --release -q --bin bru
bru=$PWD/target/release/bru
jobs_args=()
[ -n "${JOBS:-}" ] && jobs_args=(--jobs "$JOBS")

# --- a throwaway server, stock settings except where it listens -------------
initdb=$(command -v initdb || ls /usr/lib/postgresql/*/bin/initdb | tail -1)
bin=$(dirname "$initdb")
sock=$(mktemp -d /tmp/bru-bench-mig-XXXXXX)
chmod 755 "$sock"
run=()
if [ "$(id -u)" = 0 ]; then chown nobody "$sock"; run=(runuser -u nobody --); fi
"${run[@]}" "$bin/initdb" -D "$sock/data" -U bru --auth=trust -E UTF8 --locale=C >/dev/null
"${run[@]}" "$bin/pg_ctl" -D "$sock/data" -w -s -l "$sock/server.log" \
    -o "-k $sock -c listen_addresses='' -p 5432" start
trap '"${run[@]}" "$bin/pg_ctl" -D "$sock/data" -m immediate -s stop; rm -rf "$sock"' EXIT
url() { echo "postgresql://bru@/$1?host=$sock&port=5432"; }
# pgloader spells a Unix socket directory as host "unix:DIR".
pgloader_url() { echo "postgresql://bru@unix:$sock:5432/$1"; }
server="throwaway server from initdb, stock settings ($("$bin/postgres" --version))"
export PGCONNECT_TIMEOUT=10
sql() { psql -X -q -v ON_ERROR_STOP=1 -d "$(url postgres)" -c "$1" >/dev/null; }
fresh_db() { sql "DROP DATABASE IF EXISTS $1"; sql "CREATE DATABASE $1"; }

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

# measure LABEL CMD...: runs CMD under GNU time, appends "label wall_s rss_kib"
measure() {
    local label=$1; shift
    /usr/bin/time -v -o "$out/time.txt" "$@" >"$out/stdout-$label.txt" 2>"$out/stderr-$label.txt" || {
        cat "$out/stdout-$label.txt" "$out/stderr-$label.txt" >&2; exit 1; }
    local wall rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,p,":"); s=0; for(i=1;i<=n;i++) s=s*60+p[i]; print s}' "$out/time.txt")
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$out/time.txt")
    echo "$label $wall $rss" >> "$out/times"
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
med() { awk -v l="$1" -v f="$2" '$1==l {print $f}' "$out/times" | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
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
# Read all of it: pgloader (SBCL) aborts noisily when its output pipe closes.
pgloader_version=$("$pgloader" --version | sed -n 1p)
cat <<MD
SQLite → PostgreSQL migration, WFM dataset scale $scale ($rows rows, SQLite file ${sqlite_mib} MiB, made with \`bru backup\` + \`bru restore\` from the PostgreSQL dataset), $server;
$pgloader_version; $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, $(date -u +%F); medians of $runs alternating runs, each into a freshly created database, every table's row count checked after each run.
Command: \`RUNS=$runs${JOBS:+ JOBS=$JOBS} benches/migration.sh $scale\`

| | bru | pgloader | bru / pgloader |
|---|---|---|---|
| wall time | ${b} s | ${p} s | $(ratio "$b" "$p") |
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
