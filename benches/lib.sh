# Shared helpers of the benchmark scripts, sourced first by each of them.
# Every script sets up its work directory, checks its tools, builds bru,
# times commands and (for PostgreSQL) starts its throwaway server the same
# way, so the figures of different scripts compare.

# bench_workdir DEFAULT: $out, the work directory ($OUT or DEFAULT), emptied
# and made absolute; $dataset, the WFM dataset ($DATASET, or
# ../shared/bench/wfm_dataset.sql).
bench_workdir() {
    out=${OUT:-$1}
    dataset=${DATASET:-../shared/bench/wfm_dataset.sql}
    [ -f "$dataset" ] || dataset=/work/shared/bench/wfm_dataset.sql
    rm -rf "$out"
    mkdir -p "$out"
    out=$(cd "$out" && pwd)
}

# need TOOL...: stops with one line naming the first tool that is missing.
need() {
    local t
    for t in "$@"; do
        command -v "$t" >/dev/null || { echo "missing $t" >&2; exit 1; }
    done
}

# build_bru: a release build of this checkout's bru; sets $bru to it.
build_bru() {
    cargo build --release -q --bin bru
    bru=${CARGO_TARGET_DIR:-$PWD/target}/release/bru
}

# measure LABEL CMD...: runs CMD under GNU time and appends
# "LABEL wall_seconds peak_rss_kib" to $out/times. CMD's output goes to
# $out/stdout-LABEL.txt and $out/stderr-LABEL.txt; if CMD fails, both are
# shown and the script stops (a failed run is never timed).
measure() {
    local label=$1; shift
    /usr/bin/time -v -o "$out/time.txt" "$@" >"$out/stdout-$label.txt" 2>"$out/stderr-$label.txt" || {
        cat "$out/stdout-$label.txt" "$out/stderr-$label.txt" >&2; exit 1; }
    local wall rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,p,":"); s=0; for(i=1;i<=n;i++) s=s*60+p[i]; print s}' "$out/time.txt")
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$out/time.txt")
    echo "$label $wall $rss" >> "$out/times"
}

# The median of the numbers on stdin.
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# med LABEL FIELD: the median of FIELD (2 = wall seconds, 3 = peak RSS KiB)
# over the runs measured as LABEL.
med() { awk -v l="$1" -v f="$2" '$1==l {print $f}' "$out/times" | median; }

# ratio A B: A / B to two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }

# pg_throwaway_server NAME: starts a PostgreSQL server from initdb (stock
# settings except where it listens: a unix socket in a new temp dir, no
# TCP), as user nobody when run as root, stopped and removed on exit. Sets
# $sock, $server (a description) and url DB (a bru/libpq URL of database DB).
pg_throwaway_server() {
    local initdb
    initdb=$(command -v initdb || ls /usr/lib/postgresql/*/bin/initdb | tail -1)
    bin=$(dirname "$initdb")
    sock=$(mktemp -d "/tmp/bru-bench-$1-XXXXXX")
    chmod 755 "$sock"
    run=()
    if [ "$(id -u)" = 0 ]; then chown nobody "$sock"; run=(runuser -u nobody --); fi
    "${run[@]}" "$bin/initdb" -D "$sock/data" -U bru --auth=trust -E UTF8 --locale=C >/dev/null
    "${run[@]}" "$bin/pg_ctl" -D "$sock/data" -w -s -l "$sock/server.log" \
        -o "-k $sock -c listen_addresses='' -p 5432 ${PG_OPTS:-}" start
    trap '"${run[@]}" "$bin/pg_ctl" -D "$sock/data" -m immediate -s stop; rm -rf "$sock"' EXIT
    url() { echo "postgresql://bru@/$1?host=$sock&port=5432"; }
    server="throwaway server from initdb, stock settings ($("$bin/postgres" --version))"
    pg_helpers
}

# pg_server NAME: the server at $BRU_BENCH_PG_URL (a superuser URL without a
# database) when set, else a throwaway one (pg_throwaway_server NAME).
pg_server() {
    if [ -n "${BRU_BENCH_PG_URL:-}" ]; then
        base=${BRU_BENCH_PG_URL%/}
        url() { echo "$base/$1"; }
        server="existing server (BRU_BENCH_PG_URL)"
        pg_helpers
    else
        pg_throwaway_server "$1"
    fi
}

# sql STATEMENT (on database postgres) and fresh_db DB (drop and create).
pg_helpers() {
    export PGCONNECT_TIMEOUT=10
    sql() { psql -X -q -v ON_ERROR_STOP=1 -d "$(url postgres)" -c "$1" >/dev/null; }
    fresh_db() { sql "DROP DATABASE IF EXISTS $1"; sql "CREATE DATABASE $1"; }
    # wfm_db DB: DB made afresh with the WFM dataset at $scale; sets $src
    # to its URL and $rows to its row count.
    wfm_db() {
        fresh_db "$1"
        echo "building the dataset (scale $scale)..." >&2
        src=$(url "$1")
        psql -X -q -v ON_ERROR_STOP=1 -v scale="$scale" -d "$src" -f "$dataset" >/dev/null
        rows=$(psql -X -A -t -d "$src" -c "SELECT sum(n_live_tup) FROM pg_stat_user_tables")
    }
}
