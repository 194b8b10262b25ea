#!/usr/bin/env bash
# PostgreSQL fidelity measurement (issue 10): PostgreSQL's own regression
# database, round-tripped by pg_dump | pg_restore (the baseline) and by
# bru backup | bru restore, compared with `pg_dump -s` and per-table sorted
# rows. This is a measurement, not a speed benchmark: the figures are diff
# line counts and differing tables, and the script exits non-zero only when
# it cannot measure (a tool missing, the suite's libraries failing to build,
# a server failing to start), never because bru's copy differs.
#
# The regression database is the one pg_upgrade's tests dump and restore: the
# tests of src/test/regress/parallel_schedule of the PostgreSQL source, run
# by pg_regress as `make installcheck` does (Debian's postgresql-server-dev
# package ships it) against a throwaway server (initdb, a unix socket in a
# temp dir; as user nobody when run as root), with regress.so and the contrib modules the
# suite loads (contrib/spi's autoinc and refint, see test_setup.sql) compiled
# against `pg_config --includedir-server`. Individual test files may fail:
# the database they leave is what is measured. A few contrib extensions are
# then added to it (CONTRIB below), as pg_upgrade's cross-version tests do.
#
# Usage: benches/pg_regress_roundtrip.sh [--workaround] [PGSRC]
#   PGSRC   the unpacked PostgreSQL source tree (or env PGSRC); when absent,
#           `apt-get source postgresql-MAJOR=VERSION` of the installed
#           server is fetched into $OUT/pgsrc (needs a deb-src line).
#   --workaround  (or WORKAROUND=1) also measures bru past its blockers:
#           the bru run is repeated on a copy of the database
#           (CREATE DATABASE regression_wa TEMPLATE regression) from which
#           each object bru fails on is dropped (DROP ... CASCADE), one
#           blocker at a time, until backup and restore finish; every object
#           removed, with what the CASCADE took along, is listed in
#           $OUT/DB.workaround.log. The plain run (no objects removed) is always
#           measured first, so the first blocker is still reported as is.
# Env:  OUT=DIR    output directory (default ./bench-out/pg-regress): diffs
#                  (LABEL.schema.diff, LABEL.rows.diff, LABEL.objects.diff),
#                  logs, dumps, the summary table (summary.md, objects.md)
#       CACHE=DIR  where the built regression cluster is kept (default
#                  $OUT/cache): the suite runs once; later runs copy that
#                  stopped data directory instead of re-running it (the
#                  original database, not a pg_restore copy of it, so dropped
#                  columns, column order and OID order stay as the suite left
#                  them). $CACHE/regression.dump is its `pg_dump -Fc`.
#                  Remove the directory to rebuild.
#       PAGILA=DIR a directory holding pagila-schema.sql and pagila-data.sql
#                  (the public pagila sample: github.com/xzilla/pagila or its
#                  fork devrimgunduz/pagila), loaded with psql into database
#                  pagila (owner role postgres) and measured the same way;
#                  skipped when the files are absent.
#       MAX_WORKAROUNDS=N  blockers removed at most (default 80)
#       WORKAROUND_FROM=FILE  a regression.workaround.log of an earlier run:
#                  its removals are made first, then the search goes on
#       JOBS=N     bru --jobs (default 2)
# The whole script is one { ... } block, so that bash reads all of it before
# running any: editing the file during a (long) run does not change that run.
{
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
workaround=${WORKAROUND:-0}
pgsrc=${PGSRC:-}
while [ $# -gt 0 ]; do
    case $1 in
        --workaround) workaround=1 ;;
        -h | --help) sed -n '2,/^# The whole script/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        -*) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
        *) pgsrc=$1 ;;
    esac
    shift
done
out=${OUT:-bench-out/pg-regress}
mkdir -p "$out"
out=$(cd "$out" && pwd)
cache=${CACHE:-$out/cache}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
pagila=${PAGILA:-}
max_wa=${MAX_WORKAROUNDS:-80}
jobs=${JOBS:-2}
# Extensions of contrib added to the regression database after the suite
# (each with a table using it, so data of its types is carried too).
CONTRIB="hstore citext pg_trgm cube isn ltree"

. benches/lib.sh
need pg_config psql pg_dump pg_restore cc diff awk
major=$(pg_config --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
pgbin=$(pg_config --bindir)
[ -x "$pgbin/pg_ctl" ] || pgbin=$(dirname "$(readlink -f "$(command -v initdb)")")
pg_regress=$(dirname "$(pg_config --pgxs)")/../test/regress/pg_regress
[ -x "$pg_regress" ] || { echo "missing pg_regress ($pg_regress): apt-get install postgresql-server-dev-$major" >&2; exit 1; }
# Client tools of the server's version (Debian's /usr/bin ones are wrappers).
export PATH="$pgbin:$PATH"

# --- the source tree -----------------------------------------------------------
if [ -z "$pgsrc" ]; then
    pgsrc=$(find "$out/pgsrc" -maxdepth 1 -type d -name "postgresql-$major-*" 2>/dev/null | head -1)
fi
if [ -z "$pgsrc" ] || [ ! -f "$pgsrc/src/test/regress/parallel_schedule" ]; then
    need apt-get dpkg-query
    ver=$(dpkg-query -W -f='${Version}' "postgresql-$major" 2>/dev/null || true)
    echo "fetching the PostgreSQL $major source (apt-get source postgresql-$major${ver:+=$ver})..." >&2
    mkdir -p "$out/pgsrc"
    (cd "$out/pgsrc" && apt-get source -q "postgresql-$major${ver:+=$ver}" >/dev/null) || {
        echo "apt-get source failed: add a deb-src line (Types: deb-src) for the Debian archive and run apt-get update, or pass PGSRC" >&2
        exit 1; }
    pgsrc=$(find "$out/pgsrc" -maxdepth 1 -type d -name "postgresql-$major-*" | head -1)
fi
pgsrc=$(cd "$pgsrc" && pwd)
regress=$pgsrc/src/test/regress

# --- the server --------------------------------------------------------------
# As benches/lib.sh's pg_throwaway_server, but the data directory may come
# from the cache, and with the settings pg_regress's own temporary instance
# uses (prepared transactions for prepared_xacts, no fsync for speed).
sock=$(mktemp -d /tmp/bru-regress-XXXXXX)
chmod 755 "$sock"
run=()
if [ "$(id -u)" = 0 ]; then chown nobody "$sock"; run=(runuser -u nobody --); fi
stop_server() { "${run[@]}" "$pgbin/pg_ctl" -D "$sock/data" -m fast -s -w stop; }
start_server() {
    "${run[@]}" "$pgbin/pg_ctl" -D "$sock/data" -w -s -l "$sock/server.log" \
        -o "-k $sock -c listen_addresses='' -p 5432 -c fsync=off -c max_prepared_transactions=2" start || {
        tail -20 "$sock/server.log" >&2; exit 1; }
}
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
    [ -f "$sock/data/postmaster.pid" ] && "${run[@]}" "$pgbin/pg_ctl" -D "$sock/data" -m immediate -s stop
    cp -f "$sock/server.log" "$out/server.log" 2>/dev/null || true
    rm -rf "$sock"
}
trap cleanup EXIT
url() { echo "postgresql://bru@/$1?host=$sock&port=5432"; }
pg_helpers
export PGHOST=$sock PGPORT=5432 PGUSER=bru
psql_q() { psql -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }

if [ -f "$cache/data/PG_VERSION" ]; then
    echo "regression cluster from the cache ($cache/data)" >&2
    cp -a "$cache/data" "$sock/data"
    start_server
else
    # --- build the suite's libraries -----------------------------------------
    lib=$out/lib
    mkdir -p "$lib"
    inc=$(pg_config --includedir-server)
    echo "building regress.so, autoinc.so, refint.so..." >&2
    cc -O2 -fPIC -shared -I"$inc" -o "$lib/regress.so" "$regress/regress.c"
    cc -O2 -fPIC -shared -I"$inc" -o "$lib/autoinc.so" "$pgsrc/contrib/spi/autoinc.c"
    # contrib/spi/Makefile builds refint with REFINT_VERBOSE (the NOTICEs
    # the triggers test expects).
    cc -O2 -fPIC -shared -I"$inc" -DREFINT_VERBOSE -o "$lib/refint.so" "$pgsrc/contrib/spi/refint.c"
    "${run[@]}" "$pgbin/initdb" -D "$sock/data" -U bru --auth=trust -E UTF8 --locale=C --no-sync >/dev/null
    start_server
    # --- run the suite --------------------------------------------------------
    # pg_regress (installcheck mode: an existing server) creates the
    # regression database as it does for `make installcheck`, sets
    # PG_ABS_SRCDIR, PG_ABS_BUILDDIR, PG_LIBDIR and PG_DLSUFFIX for the
    # tests' \getenv, and runs the schedule's groups in parallel. The
    # server writes into the output directory (COPY TO), so it belongs to
    # the server's user.
    rout=$out/regress-run
    rm -rf "$rout"; mkdir -p "$rout"
    [ ${#run[@]} -gt 0 ] && chown -R nobody "$rout"
    echo "running parallel_schedule (several minutes)..." >&2
    set +e
    "${run[@]}" "$pg_regress" --bindir="$pgbin" --dlpath="$lib" --inputdir="$regress" \
        --outputdir="$rout" --schedule="$regress/parallel_schedule" \
        --host="$sock" --port=5432 --user=bru --dbname=regression >"$out/pg_regress.log" 2>&1
    set -e
    tail -3 "$out/pg_regress.log" >&2
    # --- contrib extensions ---------------------------------------------------
    for ext in $CONTRIB; do
        psql_q -d regression -c "CREATE EXTENSION IF NOT EXISTS $ext" >/dev/null 2>>"$out/contrib.log" \
            || echo "contrib extension $ext not available, skipped" >&2
    done
    psql -X -q -d regression >>"$out/contrib.log" 2>&1 <<'SQL'
CREATE TABLE contrib_values (id int PRIMARY KEY, h hstore, c citext, t text, cu cube, i isbn13, l ltree);
INSERT INTO contrib_values VALUES
  (1, 'a=>1, b=>NULL', 'MiXeD', 'trigram text', '(1,2),(3,4)', '978-0-393-04002-9', 'top.science.astronomy'),
  (2, '', 'x', 'other', '(0)', '9780393040029', 'top');
CREATE INDEX contrib_values_trgm ON contrib_values USING gist (t gist_trgm_ops);
CREATE INDEX contrib_values_ltree ON contrib_values USING gist (l);
SQL
    stop_server
    echo "keeping the built cluster in $cache/data" >&2
    rm -rf "$cache/data"
    cp -a "$sock/data" "$cache/data"
    start_server
    pg_dump -Fc -f "$cache/regression.dump" -d regression
fi

# --- measuring -----------------------------------------------------------------
build_bru
export PGOPTIONS='-c client_min_messages=warning'
fresh_copy() { sql "DROP DATABASE IF EXISTS $1"; sql "CREATE DATABASE $1 TEMPLATE ${2:-template0}"; }

# rows DB FILE: one line per table (FROM ONLY, so an inheritance parent
# counts its own rows; not materialized views: pg_restore and bru both
# refresh them, so their rows are those of a refresh, which may differ from
# the stale rows of the source) with its row count and
# the md5 of its rows sorted bytewise, each row as to_jsonb (keyed by column
# name, so a copy whose columns are in another order, as pg_restore's
# inheritance children, compares equal when the values are), then one line
# per large object (owner, ACL, comment, md5 of the contents). The session
# settings are fixed, so the text of a value depends on the value only. A
# table that cannot be read gives an error in FILE.err and no line.
rows() {
    psql -X -q -A -t -F $'\t' -d "$1" 2>"$2.err" >"$2" <<'SQL'
SET timezone = 'UTC'; SET datestyle = 'ISO, MDY'; SET intervalstyle = postgres;
SET bytea_output = hex; SET extra_float_digits = 1; SET lc_monetary = 'C';
SELECT format('SELECT %L, count(*), md5(coalesce(string_agg(r, E''\n'' ORDER BY r COLLATE "C"), '''')) FROM (SELECT to_jsonb(t)::text AS r FROM ONLY %I.%I t) s',
              n.nspname || '.' || c.relname, n.nspname, c.relname)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND c.relpersistence <> 't'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp)'
ORDER BY n.nspname, c.relname COLLATE "C" \gexec
SELECT 'large object ' || m.oid, pg_get_userbyid(m.lomowner), coalesce(m.lomacl::text, ''),
       coalesce(obj_description(m.oid, 'pg_largeobject'), ''),
       (SELECT md5(coalesce(string_agg(l.data, ''::bytea ORDER BY l.pageno), ''::bytea))
          FROM pg_largeobject l WHERE l.loid = m.oid)
FROM pg_largeobject_metadata m ORDER BY m.oid;
SQL
}

# compare LABEL SRC COPY: `pg_dump -s` of both and their rows; sets
# $schema_lines (lines in the diff that differ, `<` and `>`), $tables_differ
# (tables of SRC whose line differs or is missing in COPY, followed by
# "+N extra" when COPY has N tables SRC does not), $tables (tables in SRC),
# $los (large objects in SRC) and $los_differ (the same for large objects). Keeps
# LABEL.schema.diff and LABEL.rows.diff in $out.
compare() {
    local label=$1 src=$2 copy=$3
    # pg_dump >= 15.14 brackets its output in \restrict KEY ... \unrestrict
    # KEY with a random KEY: those two lines always differ, so they go.
    pg_dump -s -d "$src" | sed -E '/^\\(un)?restrict /d' >"$out/$src.schema.sql"
    pg_dump -s -d "$copy" | sed -E '/^\\(un)?restrict /d' >"$out/$copy.schema.sql"
    diff "$out/$src.schema.sql" "$out/$copy.schema.sql" >"$out/$label.schema.diff" || true
    schema_lines=$(grep -c '^[<>]' "$out/$label.schema.diff" || true)
    object_diff "$out/$src.schema.sql" "$out/$copy.schema.sql" "$out/$label.objects.diff"
    printf '%s\n' "- $label: ${objects_summary:-no object differs}" >>"$out/objects.md"
    rows "$src" "$out/$src.rows"
    rows "$copy" "$out/$copy.rows"
    diff "$out/$src.rows" "$out/$copy.rows" >"$out/$label.rows.diff" || true
    tables=$(grep -vc '^large object ' "$out/$src.rows" || true)
    los=$(grep -c '^large object ' "$out/$src.rows" || true)
    local extra
    tables_differ=$(awk -F'\t' '/^< / && !/^< large object / {print $1}' "$out/$label.rows.diff" | sort -u | wc -l)
    extra=$(cut -f1 "$out/$src.rows" | sort -u | comm -13 - <(cut -f1 "$out/$copy.rows" | sort -u) | grep -vc '^large object ' || true)
    if [ "$extra" -gt 0 ]; then tables_differ="$tables_differ, +$extra extra"; fi
    los_differ=$(awk -F'\t' '/^< large object / {print $1}' "$out/$label.rows.diff" | sort -u | wc -l)
}

# objects DUMP: one line per object of a `pg_dump -s` file, "TYPE<tab>
# SCHEMA<tab>NAME<tab>its statements on one line", from pg_dump's
# "-- Name: N; Type: T; Schema: S; Owner: O" headers (a repeated header gets
# a #2, #3 suffix).
objects() {
    awk -F'; ' '
        function flush() { if (key != "") print key "\t" body }
        /^-- (Data for )?Name: / {
            flush(); name = $1; sub(/^-- (Data for )?Name: /, "", name)
            type = $2; sub(/^Type: /, "", type); schema = $3; sub(/^Schema: /, "", schema)
            key = type "\t" schema "\t" name
            if (++seen[key] > 1) key = key " #" seen[key]
            body = ""; next }
        /^--/ || /^$/ { next }
        key != "" { body = body " " $0 }
        END { flush() }' "$1"
}

# object_diff SRC COPY OUT: which objects of SRC's schema dump are missing
# in COPY's, differ, or are extra there, one per line ("missing<tab>TYPE
# <tab>SCHEMA<tab>NAME") into OUT; sets $objects_summary, counts by type.
object_diff() {
    local a b
    a=$(mktemp); b=$(mktemp)
    objects "$1" >"$a"; objects "$2" >"$b"
    LC_ALL=C join -t $'\t' -a1 -a2 -e '' -o 0,1.2,2.2 \
        <(awk -F'\t' '{print $1 "|" $2 "|" $3 "\t" $4 "."}' "$a" | LC_ALL=C sort) \
        <(awk -F'\t' '{print $1 "|" $2 "|" $3 "\t" $4 "."}' "$b" | LC_ALL=C sort) |
        awk -F'\t' '$2 != $3 { split($1, k, "|"); s = ($3 == "") ? "missing" : ($2 == "") ? "extra" : "differs"
                               print s "\t" k[1] "\t" k[2] "\t" k[3] }' >"$3"
    rm -f "$a" "$b"
    objects_summary=$(awk -F'\t' '{n[$1 " " $2]++} END {for (k in n) print n[k], k}' "$3" | sort -k2,2 -k1,1nr |
        awk '{c = $1; st = $2; $1 = ""; $2 = ""; sub(/^  /, ""); l[st] = l[st] (l[st] == "" ? "" : ", ") c " " $0}
             END {for (st in l) printf "%s: %s; ", st, l[st]}')
}

# first_error FILE: bru's one error line (without "bru: error: ").
# The URL of the failed run and the hint on --resume are left out.
first_error() {
    grep -m1 '^bru: error: ' "$1" | sed -E 's/^bru: error: //; s/^(backup of|restore into|restore of) [^ ]+ failed: //
        s/; what was restored is kept: run the same restore with --resume.*$//' || true
}

summary=$out/summary.md
: >"$summary"
: >"$out/objects.md"
row() { printf '| %s | %s | %s | %s | %s | %s |\n' "$@" >>"$summary"; }
row database tool "result" "\`pg_dump -s\` diff lines" "tables differing" "large objects differing"
row --- --- --- --- --- ---

# bru_roundtrip SRC COPY: bru backup of SRC into $out/SRC.db and bru restore
# of it into a fresh COPY; sets $stage (restored, backup or restore) and
# $err (bru's error line, empty when restored). The restore applies the
# privileges of system objects (--system-privileges), as pg_restore does:
# the regression suite changes schema public's and grants on catalog tables.
bru_roundtrip() {
    local src=$1 copy=$2
    fresh_copy "$copy"
    err=
    if ! "$bru" backup "$(url "$src")" "$out/$src.db" --force --jobs "$jobs" >"$out/$src.bru_backup.log" 2>&1; then
        stage=backup; err=$(first_error "$out/$src.bru_backup.log")
    elif ! "$bru" restore "$out/$src.db" "$(url "$copy")" --jobs "$jobs" --system-privileges >"$out/$src.bru_restore.log" 2>&1; then
        stage=restore; err=$(first_error "$out/$src.bru_restore.log")
    else
        stage=restored
    fi
    [ "$stage" = restored ] || [ -n "$err" ] || err="(no error line; see $out/$src.bru_$stage.log)"
}

# bru_result: the result column for the last bru_roundtrip.
bru_result() {
    if [ "$stage" = restored ]; then echo restored; else
        local e=${err//|/\\|}; echo "$stage failed: ${e:0:240}"; fi
}

# measure DB: the baseline and bru, DB into DB_pg and DB_bru.
measure_db() {
    local db=$1 errs
    echo "$db: pg_dump -Fc | pg_restore..." >&2
    pg_dump -Fc -d "$db" -f "$out/$db.dump"
    fresh_copy "${db}_pg"
    pg_restore -d "${db}_pg" "$out/$db.dump" >"$out/$db.pg_restore.log" 2>&1 || true
    errs=$(sed -nE 's/.*errors ignored on restore: ([0-9]+).*/\1/p' "$out/$db.pg_restore.log")
    compare "$db.pg" "$db" "${db}_pg"
    row "$db" "pg_dump -Fc, pg_restore" "${errs:-0} errors" "$schema_lines" "$tables_differ (of $tables)" "$los_differ of $los"
    echo "$db: bru backup, bru restore..." >&2
    bru_roundtrip "$db" "${db}_bru"
    echo "bru: $(bru_result)" >&2
    compare "$db.bru" "$db" "${db}_bru"
    row "$db" "bru backup, bru restore" "$(bru_result)" "$schema_lines" "$tables_differ (of $tables)" "$los_differ of $los"
}

# drop_sql DB KIND NAME: the statement that removes the object bru names
# as KIND NAME in DB, found in the catalogs (so a domain named "type", an
# aggregate named "function" or a partitioned table are dropped as what
# they are); empty when it is not found.
drop_sql() {
    local db=$1 kind=$2 name=$3
    case $kind in
        trigger | rule | policy)
            # bru names these "NAME on TABLE".
            local obj=${name% on *} rel=${name##* on }
            echo "DROP ${kind^^} IF EXISTS $obj ON $rel CASCADE"; return ;;
        "exclusion constraint" | constraint)
            psql_q -d "$db" -v n="$name" <<'SQL'
SELECT format('ALTER TABLE %s DROP CONSTRAINT %I CASCADE', conrelid::regclass, conname)
FROM pg_constraint WHERE format('%s.%s', conrelid::regclass, conname) = :'n'
   OR format('%I.%I', connamespace::regnamespace, conname) = :'n' LIMIT 1
SQL
            return ;;
    esac
    # A comment that fails goes, not the object it is on.
    if [ "$kind" = comment ]; then
        drop_sql "$db" object "$name" | sed -E 's/^DROP (.*) CASCADE$/COMMENT ON \1 IS NULL/; /^DROP /d'
        return
    fi
    # In PL/pgSQL so that the tests run in order; reg() catches the syntax
    # errors of to_regclass and the like on a name of another kind.
    psql_q -d "$db" -v n="$name" -v k="$kind" <<'SQL'
CREATE FUNCTION pg_temp.reg(f text, n text) RETURNS oid LANGUAGE plpgsql AS $f$
DECLARE o oid;
BEGIN EXECUTE format('SELECT %s(%L)::oid', f, n) INTO o; RETURN o;
EXCEPTION WHEN OTHERS THEN RETURN NULL; END $f$;
-- A type made by another one (a range's multirange, made by the range)
-- goes with that one.
CREATE FUNCTION pg_temp.owning_type(t oid) RETURNS oid LANGUAGE plpgsql AS $f$
DECLARE u oid;
BEGIN
  LOOP
    SELECT refobjid INTO u FROM pg_depend WHERE classid = 'pg_type'::regclass AND objid = t
      AND deptype = 'i' AND refclassid = 'pg_type'::regclass;
    IF u IS NULL THEN RETURN t; END IF;
    t := u;
  END LOOP;
END $f$;
CREATE FUNCTION pg_temp.drop_stmt(n text, kind text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE r text; o oid; t oid;
BEGIN
  -- A routine's name "f(int)" also reads as a type with a type modifier.
  IF kind IN ('function', 'aggregate', 'window function', 'procedure') THEN
    o := coalesce(pg_temp.reg('to_regprocedure', n), pg_temp.reg('to_regproc', n));
  END IF;
  IF o IS NULL THEN o := pg_temp.reg('to_regclass', n); ELSE o := NULL; kind := 'routine'; END IF;
  IF o IS NOT NULL THEN
    RETURN (SELECT format('DROP %s %s CASCADE', CASE relkind WHEN 'v' THEN 'VIEW'
              WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE' WHEN 'i' THEN 'INDEX'
              WHEN 'I' THEN 'INDEX' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END, oid::regclass)
            FROM pg_class WHERE oid = o);
  END IF;
  IF kind <> 'routine' THEN o := pg_temp.reg('to_regtype', n); END IF;
  IF o IS NOT NULL THEN RETURN format('DROP TYPE %s CASCADE', pg_temp.owning_type(o)::regtype); END IF;
  o := coalesce(pg_temp.reg('to_regprocedure', n), pg_temp.reg('to_regproc', n));
  IF o IS NOT NULL THEN
    -- A function made by another object (a range type's multirange
    -- constructors) goes with that object.
    SELECT refobjid INTO t FROM pg_depend WHERE classid = 'pg_proc'::regclass AND objid = o
      AND deptype = 'i' AND refclassid = 'pg_type'::regclass;
    IF t IS NOT NULL THEN RETURN format('DROP TYPE %s CASCADE', pg_temp.owning_type(t)::regtype); END IF;
    -- Named by its identity arguments (a procedure's OUT arguments are
    -- part of it); an aggregate of no arguments is AGG(*).
    RETURN (SELECT format('DROP %s %I.%I(%s) CASCADE',
              CASE prokind WHEN 'a' THEN 'AGGREGATE' WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END,
              pronamespace::regnamespace, proname,
              CASE WHEN prokind = 'a' AND pronargs = 0 THEN '*' ELSE pg_get_function_identity_arguments(oid) END)
            FROM pg_proc WHERE oid = o);
  END IF;
  o := pg_temp.reg('to_regnamespace', n);
  IF o IS NOT NULL THEN RETURN format('DROP SCHEMA %s CASCADE', o::regnamespace); END IF;
  o := pg_temp.reg('to_regcollation', n);
  IF o IS NOT NULL THEN RETURN format('DROP COLLATION %s CASCADE', o::regcollation); END IF;
  o := coalesce(pg_temp.reg('to_regoperator', n), pg_temp.reg('to_regoper', n));
  IF o IS NOT NULL THEN RETURN format('DROP OPERATOR %s CASCADE', o::regoperator); END IF;
  SELECT format('DROP STATISTICS %s CASCADE', n) INTO r FROM pg_statistic_ext
    WHERE format('%I.%I', stxnamespace::regnamespace, stxname) IN (n, 'public.' || n);
  IF r IS NULL THEN SELECT format('DROP TEXT SEARCH CONFIGURATION %s CASCADE', oid::regconfig) INTO r
    FROM pg_ts_config WHERE oid::regconfig::text = n OR format('%I.%I', cfgnamespace::regnamespace, cfgname) = n; END IF;
  IF r IS NULL THEN SELECT format('DROP TEXT SEARCH DICTIONARY %s CASCADE', oid::regdictionary) INTO r
    FROM pg_ts_dict WHERE oid::regdictionary::text = n OR format('%I.%I', dictnamespace::regnamespace, dictname) = n; END IF;
  IF r IS NULL THEN SELECT format('DROP TEXT SEARCH PARSER %I.%I CASCADE', prsnamespace::regnamespace, prsname) INTO r
    FROM pg_ts_parser WHERE format('%I.%I', prsnamespace::regnamespace, prsname) = n OR prsname = n; END IF;
  IF r IS NULL THEN SELECT format('DROP TEXT SEARCH TEMPLATE %I.%I CASCADE', tmplnamespace::regnamespace, tmplname) INTO r
    FROM pg_ts_template WHERE format('%I.%I', tmplnamespace::regnamespace, tmplname) = n OR tmplname = n; END IF;
  IF r IS NULL THEN SELECT format('DROP CONVERSION %I.%I', connamespace::regnamespace, conname) INTO r
    FROM pg_conversion WHERE format('%I.%I', connamespace::regnamespace, conname) = n OR conname = n; END IF;
  IF r IS NULL THEN SELECT format('DROP EXTENSION %I CASCADE', extname) INTO r FROM pg_extension WHERE extname = n; END IF;
  IF r IS NULL THEN SELECT format('DROP SERVER %I CASCADE', srvname) INTO r FROM pg_foreign_server WHERE srvname = n; END IF;
  IF r IS NULL THEN SELECT format('DROP FOREIGN DATA WRAPPER %I CASCADE', fdwname) INTO r
    FROM pg_foreign_data_wrapper WHERE fdwname = n; END IF;
  IF r IS NULL THEN SELECT format('DROP EVENT TRIGGER %I', evtname) INTO r FROM pg_event_trigger WHERE evtname = n; END IF;
  IF r IS NULL THEN SELECT format('DROP PUBLICATION %I', pubname) INTO r FROM pg_publication WHERE pubname = n; END IF;
  IF r IS NULL THEN SELECT format('DROP LANGUAGE %I CASCADE', lanname) INTO r FROM pg_language WHERE lanname = n; END IF;
  IF r IS NULL THEN SELECT format('DROP ACCESS METHOD %I CASCADE', amname) INTO r FROM pg_am WHERE amname = n; END IF;
  IF r IS NULL THEN SELECT format('DROP CAST (%s AS %s) CASCADE', castsource::regtype, casttarget::regtype) INTO r
    FROM pg_cast WHERE format('(%s AS %s)', castsource::regtype, casttarget::regtype) = n
       OR format('%s AS %s', castsource::regtype, casttarget::regtype) = n; END IF;
  RETURN coalesce(r, '');
END $f$;
SELECT pg_temp.drop_stmt(:'n', :'k');
SQL
}

# blocker_of ERROR: sets $kind and $name to the object to remove for bru's
# error line: the shell type it names (a base type bru does not carry: every
# object using it fails alike), else the object the line starts with
# ("backing up table X:", "creating KIND X:", "loading X:", "adding keys
# and indexes to X:" or "table X, column C:" for a table, "setting the owner
# of X:"), except that a function missing when a table's constraints are
# added goes instead.
blocker_of() {
    local e=$1 shell='(type "([^"]+)" is only a shell|shell type ([^ ]+) )'
    if [[ $e =~ $shell ]]; then
        kind="type"; name=${BASH_REMATCH[2]:-${BASH_REMATCH[3]}}
        return 0
    fi
    local fn='^adding [a-z ]+ to [^ ]+: function ([^ ]+\)) does not exist'
    if [[ $e =~ $fn ]]; then
        kind=function; name=${BASH_REMATCH[1]}
        return 0
    fi
    if [[ $e =~ ^(loading|restoring|finishing)\ ([^\ ]+):\  ]] || [[ $e =~ ^adding\ [a-z\ ]+\ (to)\ ([^\ ]+):\  ]] || [[ $e =~ ^(table)\ ([^\ ,:]+)[,:]\  ]]; then
        kind=table; name=${BASH_REMATCH[2]}
        return 0
    fi
    local owner='^(setting the owner of|granting [a-z ]+ on|revoking [a-z ]+ on) ([^ ]+): '
    if [[ $e =~ $owner ]]; then
        name=${BASH_REMATCH[2]}; kind=object
        [[ $name = *'('* ]] && kind=function
        return 0
    fi
    local re='^(backing up|restoring|creating|finishing|loading) (materialized view|window function|exclusion constraint|sequence ownership|[a-z]+) (.+): '
    if [[ $e =~ $re ]]; then
        kind=${BASH_REMATCH[2]}; name=${BASH_REMATCH[3]}
        # "comment on X", "owner of X", "privileges on X": the object X.
        case $kind in
            comment | privileges) name=${name#on }; name=${name#* on } ;;
            owner) name=${name#of } ;;
        esac
        name=${name%%: *}
        # A comment on a routine is named SCHEMA.SCHEMA.F(ARGS).
        [[ $kind = comment && $name =~ ^[^.\(]+\.([^.\(]+\..+\(.*)$ ]] && name=${BASH_REMATCH[1]}
        return 0
    fi
    return 1
}

# workaround DB: bru on a copy of DB from which each object bru stops at is
# dropped, until bru's round trip finishes (or MAX_WORKAROUNDS).
workaround() {
    local db=$1 wa=${1}_wa n=0 stmt log=$out/$1.workaround.log
    fresh_copy "$wa" "$db"
    : >"$log"
    # WORKAROUND_FROM: a previous run's log, whose blockers and removals
    # are copied and replayed first, so that a rerun starts where it stopped.
    if [ -f "${WORKAROUND_FROM:-}" ] && [ "$db" = regression ]; then
        grep -E '^- (backup|restore): |^  removed \(' "$WORKAROUND_FROM" >>"$log"
        while IFS= read -r stmt; do
            n=$((n + 1))
            PGOPTIONS='-c client_min_messages=notice' psql -X -q -v ON_ERROR_STOP=1 -d "$wa" -c "$stmt" >>"$log" 2>&1 ||
                printf '%s\n' "  (replaying removal $n failed)" >>"$log"
        done < <(sed -n 's/^  removed ([0-9]*): //p' "$WORKAROUND_FROM")
    fi
    while :; do
        echo "$db: bru round trip after $n removals..." >&2
        bru_roundtrip "$wa" "${wa}_bru"
        [ "$stage" = restored ] && break
        printf '%s\n' "- $stage: $err" >>"$log"
        stmt=
        if blocker_of "$err"; then stmt=$(drop_sql "$wa" "$kind" "$name" 2>>"$log") || stmt=; fi
        if [ -z "$stmt" ]; then
            printf '%s\n' "  cannot tell which object to remove; stopped" >>"$log"; break
        fi
        n=$((n + 1))
        printf '  %s\n' "removed ($n): $stmt" >>"$log"
        if ! PGOPTIONS='-c client_min_messages=notice' psql -X -q -v ON_ERROR_STOP=1 -d "$wa" -c "$stmt" >>"$log" 2>&1; then
            printf '%s\n' "  the removal failed; stopped" >>"$log"; break
        fi
        [ "$n" -ge "$max_wa" ] && { printf '%s\n' "  MAX_WORKAROUNDS=$max_wa reached; stopped" >>"$log"; break; }
    done
    compare "$db.wa.bru" "$wa" "${wa}_bru"
    row "$db minus $n objects (--workaround)" "bru backup, bru restore" "$(bru_result)" "$schema_lines" "$tables_differ (of $tables)" "$los_differ of $los"
    sed -n 's/^  removed ([0-9]*): /    /p' "$log" >&2
}

measure_db regression
[ "$workaround" = 1 ] && workaround regression

# --- pagila ------------------------------------------------------------------
if [ -n "$pagila" ] && [ -f "$pagila/pagila-schema.sql" ] && [ -f "$pagila/pagila-data.sql" ]; then
    fresh_copy pagila
    # Its objects belong to postgres, as in the dump the files come from.
    psql_q -d postgres -c "DO \$\$ BEGIN CREATE ROLE postgres; EXCEPTION WHEN duplicate_object THEN NULL; END \$\$"
    psql -X -q -d pagila -f "$pagila/pagila-schema.sql" >"$out/pagila.load.log" 2>&1
    psql -X -q -d pagila -f "$pagila/pagila-data.sql" >>"$out/pagila.load.log" 2>&1
    measure_db pagila
    [ "$workaround" = 1 ] && workaround pagila
else
    echo "pagila: skipped (set PAGILA to a directory holding pagila-schema.sql and pagila-data.sql)" >&2
fi

echo
echo "PostgreSQL fidelity, $("$pgbin/postgres" --version), bru $(git -C "$repo" rev-parse --short HEAD), $(date -u +%F):"
echo
cat "$summary"
echo
echo "Objects of the source's \`pg_dump -s\` missing in the copy, differing or extra (by pg_dump's object type; lists in *.objects.diff):"
echo
cat "$out/objects.md"
echo
echo "diffs and logs: $out"
exit 0
}
