#!/usr/bin/env bash
# SQL Server benchmark: `bru backup` and `bru restore` of a SQL Server
# database next to FreeTDS's `freebcp` out and in of every table (Debian's
# freetds-bin), side by side in one run on the same machine and server,
# alternating runs, medians reported; the archive's size next to
# freebcp's files compressed with `zstd -3`.
#
# The database is the WFM dataset (../shared/bench/wfm_dataset.sql) built in
# schema dbo of a throwaway PostgreSQL and loaded into the SQL Server with bru itself (bru
# backup of the PostgreSQL database, bru restore into mssql://), untimed.
# Each timed restore goes into a freshly created database: bru's restores
# the archive whole; freebcp loads every table (`in … -n -E`, identity
# values kept) into an empty copy of the schema made beforehand (untimed)
# with `bru restore --schema-only`, the tables one after another, parents
# first. After each load the row count of every table is checked against
# the source.
#
# The script builds and starts no SQL Server: it takes one from
# BRU_BENCH_MSSQL_URL (a SQL Server, or Babelfish for PostgreSQL).
# Prints a Markdown table (wall time, peak RSS from GNU time -v, sizes,
# ratios) with the exact commands, for BENCHMARKS.md.
#
# Usage: benches/mssql.sh [SCALE]            (default 3, ~2.8 M rows)
# Env:   BRU_BENCH_MSSQL_URL=mssql://user:password@host:port/db[?encrypt=off]
#                   a login that may create and drop databases; the script
#                   makes and drops databases bru_bench_ms_* there
#        RUNS=N     runs per tool (default 3)
#        JOBS=N     bru backup/restore --jobs (default: bru's default)
#        FORMAT=n|c freebcp's native (-n) or character (-c) files (default:
#                   n on SQL Server, c on Babelfish, where FreeTDS's native
#                   mode stops at "Unknown datatype encountered")
#        BULK_OFF=1 also time `bru restore` with BRU_MSSQL_BULK=off (INSERTs
#                   only) next to the default bulk-load path (default 1)
#        DATASET=FILE  (default ../shared/bench/wfm_dataset.sql)
#        OUT=DIR    work directory (default ./bench-out/mssql)
set -euo pipefail
cd "$(dirname "$0")/.."
scale=${1:-3}
runs=${RUNS:-3}
fmt=${FORMAT:-}
bulk_off=${BULK_OFF:-1}
. benches/lib.sh
bench_workdir bench-out/mssql
need psql freebcp bsqldb tsql zstd /usr/bin/time
[ -n "${BRU_BENCH_MSSQL_URL:-}" ] || {
    echo "set BRU_BENCH_MSSQL_URL=mssql://user:password@host:port/database (a login that may create databases)" >&2
    exit 1
}
jobs_args=()
[ -n "${JOBS:-}" ] && jobs_args=(--jobs "$JOBS")

# --- the server: bru URLs and a FreeTDS configuration ------------------------
re='^((mssql|sqlserver)://([^:@/]+):([^@/]*)@([^:/?]+)(:([0-9]+))?)(/[^?]*)?(\?(.*))?$'
[[ $BRU_BENCH_MSSQL_URL =~ $re ]] || {
    echo "BRU_BENCH_MSSQL_URL is not mssql://user:password@host[:port]/database" >&2
    exit 1
}
urldecode() { local s=${1//+/ }; printf '%b' "${s//%/\\x}"; }
ms_base=${BASH_REMATCH[1]}
ms_user=$(urldecode "${BASH_REMATCH[3]}")
ms_pass=$(urldecode "${BASH_REMATCH[4]}")
ms_host=${BASH_REMATCH[5]}
ms_port=${BASH_REMATCH[7]:-1433}
ms_query=${BASH_REMATCH[10]}
# ms_url DB: bru's URL of database DB on the server.
ms_url() { echo "$ms_base/$1${ms_query:+?$ms_query}"; }
encryption=request
[[ $ms_query =~ (^|&)encrypt=(off|false)(&|$) ]] && encryption=off
cat >"$out/freetds.conf" <<CONF
[bru_bench]
    host = $ms_host
    port = $ms_port
    tds version = 7.4
    encryption = $encryption
    client charset = UTF-8
CONF
export FREETDSCONF=$out/freetds.conf
# freebcp and bsqldb take the password only on their command line (-P);
# the script never prints it.
tds=(-S bru_bench -U "$ms_user")
export MS_PASS=$ms_pass
# msql DB SQL: runs SQL on database DB; prints the rows, tab-separated.
msql() {
    bsqldb "${tds[@]}" -P "$MS_PASS" -D "$1" -q -t $'\t' <<<"$2" 2>"$out/msql.err" ||
        { cat "$out/msql.err" >&2; exit 1; }
}
ms_fresh() { msql master "IF DB_ID('$1') IS NOT NULL DROP DATABASE $1"; msql master "CREATE DATABASE $1"; }
ms_drop() { msql master "IF DB_ID('$1') IS NOT NULL DROP DATABASE $1"; }
# Strings are cast to nvarchar: Babelfish sends varchar results in a form
# bsqldb prints as hex (0x…).
server_version=$(msql master "SELECT CAST(CAST(SERVERPROPERTY('ProductVersion') AS varchar(40)) + ' ' + REPLACE(REPLACE(LEFT(@@VERSION, 60), CHAR(10), ' '), CHAR(13), '') AS nvarchar(200))" | head -1)
babelfish=0
[[ $server_version == *Babelfish* ]] && babelfish=1
[ -n "$fmt" ] || { fmt=n; [ "$babelfish" = 1 ] && fmt=c; }

build_bru
pg_throwaway_server mssql

# --- the SQL Server copy of the dataset, made with bru -----------------------
fresh_db bru_bench_src
echo "building the dataset (scale $scale)..." >&2
# In PostgreSQL schema dbo, so that the SQL Server copy is in dbo too (a
# table in schema public fails on Babelfish: "permission denied for schema
# public", that name being PostgreSQL's own there).
psql -X -q -v ON_ERROR_STOP=1 -d "$(url bru_bench_src)" -c "CREATE SCHEMA dbo" >/dev/null
PGOPTIONS='-c search_path=dbo' psql -X -q -v ON_ERROR_STOP=1 -v scale="$scale" -d "$(url bru_bench_src)" -f "$dataset" >/dev/null
"$bru" backup "$(url bru_bench_src)" "$out/pg.db" --quiet
src_db=bru_bench_ms_src
ms_fresh "$src_db"
echo "loading it into SQL Server with bru..." >&2
"$bru" restore "$out/pg.db" "$(ms_url "$src_db")" --quiet
src=$(ms_url "$src_db")
# The tables, parents before the tables whose foreign keys reference them
# (fewest foreign keys first: enough for this dataset's one level).
tables=$(msql "$src_db" "SELECT CAST(s.name + '.' + t.name AS nvarchar(300)) FROM sys.tables t JOIN sys.schemas s ON s.schema_id = t.schema_id \
    ORDER BY (SELECT COUNT(*) FROM sys.foreign_keys f WHERE f.parent_object_id = t.object_id), s.name, t.name")
counts() { for t in $tables; do echo "$t $(msql "$1" "SELECT COUNT(*) FROM $t")"; done; }
counts "$src_db" >"$out/counts-src"
rows=$(awk '{s += $2} END {print s}' "$out/counts-src")
# check DB WHAT: stops unless every table of DB has the source's row count.
# check_soft DB WHAT: the same, but returns 1 instead of stopping.
check_soft() {
    counts "$1" >"$out/counts-$1"
    diff "$out/counts-src" "$out/counts-$1" >"$out/counts-diff" || {
        cat "$out/counts-diff" >&2; echo "$2: the row counts differ from the source" >&2; return 1; }
}
check() { check_soft "$@" || exit 1; }

# freebcp_all DIR DB out|in FMT: freebcp of every table of DB to or from
# DIR, one after another (a script, so that GNU time measures all of it).
# The database goes in -D and the table as SCHEMA.TABLE: Babelfish resolves
# freebcp's three-part names for `in` in the login's database instead.
# freebcp exits 0 even when the server refused the rows (it prints
# "N rows copied" all the same), hence the row-count check after each load.
cat >"$out/freebcp_all.sh" <<'SH'
#!/usr/bin/env bash
set -euo pipefail
dir=$1; db=$2; direction=$3; fmt=$4; shift 4
for t in $TABLES; do
    extra=()
    [ "$direction" = in ] && extra=(-E -b 50000)
    freebcp "$t" "$direction" "$dir/$t.bcp" "-$fmt" -D "$db" -S bru_bench -U "$MS_USER" -P "$MS_PASS" "${extra[@]}" >/dev/null
done
SH
chmod +x "$out/freebcp_all.sh"
export TABLES=$tables MS_USER=$ms_user

# --- backup ------------------------------------------------------------------
mkdir -p "$out/bcp"
for i in $(seq "$runs"); do
    echo "backup run $i/$runs" >&2
    measure bru_backup "$bru" backup "$src" "$out/wfm.db" --force "${jobs_args[@]}" --quiet
    rm -f "$out/bcp/"*
    measure freebcp_out "$out/freebcp_all.sh" "$out/bcp" "$src_db" out "$fmt"
done
# freebcp out's files hold every row: in character mode one line a row (the
# dataset has no newline in its text); native files are checked by loading.
if [ "$fmt" = c ]; then
    for t in $tables; do echo "$t $(wc -l <"$out/bcp/$t.bcp")"; done >"$out/counts-bcp"
    diff "$out/counts-src" "$out/counts-bcp" >&2 || { echo "freebcp out: the files' row counts differ from the source" >&2; exit 1; }
fi
bru_size=$(stat -c %s "$out/wfm.db")
bcp_size=$(cat "$out/bcp/"*.bcp | wc -c)
bcp_zst=0
for f in "$out/bcp/"*.bcp; do bcp_zst=$((bcp_zst + $(zstd -3 -q -c "$f" | wc -c))); done

# --- restore -----------------------------------------------------------------
dst_db=bru_bench_ms_dst
freebcp_in_failed=
for i in $(seq "$runs"); do
    echo "restore run $i/$runs" >&2
    ms_fresh "$dst_db"
    measure bru_restore "$bru" restore "$out/wfm.db" "$(ms_url "$dst_db")" "${jobs_args[@]}" --quiet
    check "$dst_db" "bru restore"
    if [ "$bulk_off" = 1 ]; then
        ms_fresh "$dst_db"
        measure bru_restore_inserts env BRU_MSSQL_BULK=off "$bru" restore "$out/wfm.db" "$(ms_url "$dst_db")" "${jobs_args[@]}" --quiet
        check "$dst_db" "bru restore (BRU_MSSQL_BULK=off)"
    fi
    [ -n "$freebcp_in_failed" ] && continue
    ms_fresh "$dst_db"
    "$bru" restore "$out/wfm.db" "$(ms_url "$dst_db")" --schema-only --quiet
    # In a subshell: a failed freebcp stops only it (and is not timed).
    if (measure freebcp_in_try "$out/freebcp_all.sh" "$out/bcp" "$dst_db" in "$fmt") 2>"$out/freebcp_in.err" &&
        check_soft "$dst_db" "freebcp in"; then
        awk '$1 == "freebcp_in_try" {$1 = "freebcp_in"; print}' "$out/times" | tail -1 >>"$out/times"
    else
        # Not timed: a load that stored fewer rows is no result. Say why
        # (the server's first message) and carry on with bru's figures.
        freebcp_in_failed=$(cat "$out/freebcp_in.err" "$out/stderr-freebcp_in_try.txt" 2>/dev/null |
            grep -m1 -A2 '^Msg [1-9]' | tail -1 | sed 's/^[[:space:]]*//')
        freebcp_in_failed=${freebcp_in_failed:-the row counts differ}
        echo "freebcp in: not timed (${freebcp_in_failed})" >&2
    fi
done
ms_drop "$dst_db"
ms_drop "$src_db"

mib() { awk -v b="$1" 'BEGIN {printf "%.1f MiB", b / 1048576}'; }
bb=$(med bru_backup 2); fb=$(med freebcp_out 2)
br=$(med bru_restore 2); fr=$(med freebcp_in 2)
if [ -n "$freebcp_in_failed" ]; then
    restore_fb="not measured: freebcp \`in\` did not load the rows (server: $freebcp_in_failed)"
    restore_ratio="–"; rss_fb="–"; rss_ratio="–"
else
    restore_fb="${fr} s (\`in -E\`, every table, into the schema)"
    restore_ratio=$(ratio "$br" "$fr"); rss_fb="$(med freebcp_in 3) KiB"
    rss_ratio=$(ratio "$(med bru_restore 3)" "$(med freebcp_in 3)")
fi
inserts_row=
if [ "$bulk_off" = 1 ]; then
    bi=$(med bru_restore_inserts 2)
    inserts_row="| restore wall time, \`BRU_MSSQL_BULK=off\` (INSERTs only) | ${bi} s (bulk path / INSERTs: $(ratio "$br" "$bi")) | | |
| restore peak RSS, \`BRU_MSSQL_BULK=off\` | $(med bru_restore_inserts 3) KiB | | |"
fi
cat <<MD
SQL Server ($server_version), WFM dataset scale $scale ($rows rows, loaded from PostgreSQL with bru);
$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, $(date -u +%F); medians of $runs alternating runs; FreeTDS $(tsql -C 2>/dev/null | awk '/Version:/ {print $NF}') freebcp.
Command: \`RUNS=$runs${JOBS:+ JOBS=$JOBS} FORMAT=$fmt BRU_BENCH_MSSQL_URL=… benches/mssql.sh $scale\`

| step | bru | freebcp (-$fmt) | bru / freebcp |
|---|---|---|---|
| backup wall time | ${bb} s | ${fb} s (\`out\`, every table) | $(ratio "$bb" "$fb") |
| backup peak RSS | $(med bru_backup 3) KiB | $(med freebcp_out 3) KiB | $(ratio "$(med bru_backup 3)" "$(med freebcp_out 3)") |
| size | $(mib "$bru_size") (archive) | $(mib "$bcp_zst") (files, \`zstd -3\`; $(mib "$bcp_size") raw) | $(ratio "$bru_size" "$bcp_zst") |
| restore wall time | ${br} s | $restore_fb | $restore_ratio |
| restore peak RSS | $(med bru_restore 3) KiB | $rss_fb | $rss_ratio |
$inserts_row
Row counts checked against the source, every table: after each \`bru restore\`$([ "$bulk_off" = 1 ] && echo " (both paths)"), each freebcp load$([ "$fmt" = c ] && echo ", and freebcp out's files (lines)").

Commands timed:
- \`bru backup SRC wfm.db --force${JOBS:+ --jobs $JOBS} --quiet\` vs \`freebcp SCHEMA.TABLE out TABLE.bcp -$fmt -D DB\` for each table in turn
- \`bru restore wfm.db DST${JOBS:+ --jobs $JOBS} --quiet\` into a fresh database (tables, rows, keys, indexes, foreign keys) vs \`freebcp SCHEMA.TABLE in TABLE.bcp -$fmt -D DB -E -b 50000\` for each table in turn into a fresh database holding the schema already (made untimed with \`bru restore --schema-only\`: keys, indexes and foreign keys in place)
MD
