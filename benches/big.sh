#!/usr/bin/env bash
# No size limit, shown (issue 16): an archive larger than 4 GiB, twice the
# 2 GB limit of the Access files bru replaces, of incompressible blobs, one
# table alone over 2 GiB, backed up, verified and restored exactly, from and
# into SQLite and PostgreSQL, with wall time and peak RSS of every step.
#
# 1. A SQLite file of GIB GiB of random blobs (sqlite3's randomblob) in
#    three tables: `big` (45 % of it, 1 MiB blobs), `mid` (35 %, 256 KiB
#    blobs and a text column) and `small` (20 %, 16 KiB blobs, a table of
#    many rows), each with an integer primary key.
# 2. SQLite: `bru backup` of it (the archive must be larger than 4 GiB),
#    `bru verify`, `bru restore` into a new SQLite file, `bru compare` of
#    the two files (exit 0: every row equal).
# 3. PostgreSQL (a throwaway server): `bru restore` of the same archive into
#    a database (a migration), `bru backup` of that database (again larger
#    than 4 GiB), `bru verify`, `bru restore` into a second database, and
#    `bru compare` of the SQLite source with the second database.
# Any failure or difference stops the script.
#
# Usage: benches/big.sh [GIB]                  (default 5)
# Env:   JOBS=N (default 2)  BRU_BENCH_PG_URL, OUT (default ./bench-out/big)
#        CHECK_SIZES=0 skips the over-2-GiB and over-4-GiB checks, for a quick
#        trial of the script at 1 GiB; the figures of BENCHMARKS.md keep them.
# Needs about 4 × GIB GiB of free disk at its peak (files are removed as it
# goes) and 15 to 30 minutes on two cores at 5 GiB.
set -euo pipefail
cd "$(dirname "$0")/.."
gib=${1:-5}
jobs=${JOBS:-2}
. benches/lib.sh
bench_workdir bench-out/big
need psql sqlite3 /usr/bin/time
build_bru
four_gib=$((4 * 1024 * 1024 * 1024))

echo "building $gib GiB of random blobs in SQLite..." >&2
mib=$((gib * 1024))
big_rows=$((mib * 45 / 100))
mid_rows=$((mib * 35 / 100 * 4))
small_rows=$((mib * 20 / 100 * 64))
sqlite3 "$out/src.sqlite" >/dev/null <<SQL
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
CREATE TABLE big (id INTEGER PRIMARY KEY, payload BLOB NOT NULL);
CREATE TABLE mid (id INTEGER PRIMARY KEY, label TEXT NOT NULL, payload BLOB NOT NULL);
CREATE TABLE small (id INTEGER PRIMARY KEY, payload BLOB);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $big_rows)
INSERT INTO big SELECT i, randomblob(1048576) FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $mid_rows)
INSERT INTO mid SELECT i, 'row ' || i || ' ' || hex(randomblob(16)), randomblob(262144) FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $small_rows)
INSERT INTO small SELECT i, CASE WHEN i % 97 = 0 THEN NULL ELSE randomblob(16384) END FROM n;
SQL
rows=$((big_rows + mid_rows + small_rows))
src_size=$(stat -c %s "$out/src.sqlite")
big_bytes=$(sqlite3 "$out/src.sqlite" "SELECT sum(length(payload)) FROM big")
[ "${CHECK_SIZES:-1}" = 0 ] || [ "$big_bytes" -gt $((2 * 1024 * 1024 * 1024)) ] || { echo "table big holds only $big_bytes bytes: give more GiB" >&2; exit 1; }

compare() { # A B LABEL
    "$bru" compare "$1" "$2" --quiet >"$out/compare-$3.txt" 2>&1 || {
        cat "$out/compare-$3.txt" >&2; echo "$3: the copy differs from its source" >&2; exit 1; }
}
bigger_than_4gib() { # FILE
    local s; s=$(stat -c %s "$1")
    [ "${CHECK_SIZES:-1}" = 0 ] || [ "$s" -gt "$four_gib" ] || { echo "$1 is only $s bytes, not over 4 GiB" >&2; exit 1; }
    echo "$s"
}

# --- SQLite ------------------------------------------------------------------
echo "SQLite: backup, verify, restore, compare" >&2
measure sq_backup "$bru" backup "sqlite://$out/src.sqlite" "$out/sq.db" --jobs "$jobs" --quiet
sq_size=$(bigger_than_4gib "$out/sq.db")
measure sq_verify "$bru" verify "$out/sq.db" --quiet
measure sq_restore "$bru" restore "$out/sq.db" "sqlite://$out/dst.sqlite" --jobs "$jobs" --quiet
compare "sqlite://$out/src.sqlite" "sqlite://$out/dst.sqlite" sqlite
rm -f "$out/dst.sqlite"

# --- PostgreSQL --------------------------------------------------------------
pg_server big
echo "PostgreSQL: migrate the archive in, back up, verify, restore, compare" >&2
fresh_db bru_big_src
measure pg_migrate "$bru" restore "$out/sq.db" "$(url bru_big_src)" --jobs "$jobs" --quiet
rm -f "$out/sq.db"
measure pg_backup "$bru" backup "$(url bru_big_src)" "$out/pg.db" --jobs "$jobs" --quiet
pg_size=$(bigger_than_4gib "$out/pg.db")
measure pg_verify "$bru" verify "$out/pg.db" --quiet
sql "DROP DATABASE bru_big_src"
fresh_db bru_big_dst
measure pg_restore "$bru" restore "$out/pg.db" "$(url bru_big_dst)" --jobs "$jobs" --quiet
compare "sqlite://$out/src.sqlite" "$(url bru_big_dst)" postgresql
sql "DROP DATABASE bru_big_dst"
rm -f "$out/pg.db"

gb() { awk -v b="$1" 'BEGIN {printf "%.2f GiB", b / 1073741824}'; }
row() { # LABEL STEP SIZE
    echo "| $2 | $(med "$1" 2) s | $(awk -v b="$3" -v s="$(med "$1" 2)" 'BEGIN {printf "%.0f", b / s / 1048576}') MiB/s | $(( $(med "$1" 3) / 1024 )) MiB |"
}
cat <<MD
$gib GiB of random blobs in SQLite ($rows rows in 3 tables; table \`big\` alone $(gb "$big_bytes"); file $(gb "$src_size")); $server;
$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, $(date -u +%F); --jobs $jobs; one run.
Command: \`JOBS=$jobs benches/big.sh $gib\`. Archives: from SQLite $(gb "$sq_size"), from PostgreSQL $(gb "$pg_size").
Every copy compared equal to the SQLite source with \`bru compare\` (exit 0).

| step | wall | throughput | peak RSS |
|---|---|---|---|
MD
row sq_backup "\`bru backup\` SQLite → archive" "$src_size"
row sq_verify "\`bru verify\` of that archive" "$sq_size"
row sq_restore "\`bru restore\` archive → SQLite" "$src_size"
row pg_migrate "\`bru restore\` archive → PostgreSQL" "$src_size"
row pg_backup "\`bru backup\` PostgreSQL → archive" "$pg_size"
row pg_verify "\`bru verify\` of that archive" "$pg_size"
row pg_restore "\`bru restore\` archive → PostgreSQL" "$pg_size"
