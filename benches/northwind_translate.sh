#!/usr/bin/env bash
# The sample case of issue 12: the Northwind SQLite database (16 views, 7
# CHECKs, bracket-quoted names) restored into PostgreSQL, counting views
# translated and proven equal by query, views skipped with the construct
# named, and CHECKs and defaults translated or skipped.
#
# Northwind is not in this repository: give the path of its SQLite file, or
# of its create script (src/create.sql of the northwind-SQLite3 project,
# MIT licence), from which sqlite3 builds the file.
#
# For each view bru translated, `SELECT * FROM` the view in SQLite and in
# PostgreSQL must give the same rows, compared sorted, with values written
# alike (NULL as empty, doubles by their shortest text, SQLite's date/time
# texts as the instants PostgreSQL keeps, `1996-07-04 00:00:00.000` =
# `1996-07-04 00:00:00`). Prints the counts as a Markdown list, for
# BENCHMARKS.md.
#
# Usage: benches/northwind_translate.sh NORTHWIND.db|create.sql
# Env:   BRU=path of a bru binary (default: a debug build of this checkout;
#        nothing here is timed), OUT=DIR work directory, BRU_BENCH_PG_URL.
set -euo pipefail
cd "$(dirname "$0")/.."
src=${1:?usage: benches/northwind_translate.sh NORTHWIND.db|create.sql}
. benches/lib.sh
bench_workdir bench-out/northwind
need psql sqlite3 python3
if [ -z "${BRU:-}" ]; then
    cargo build -q --bin bru
    BRU=$PWD/target/debug/bru
fi
case "$src" in
    *.sql) sqlite3 "$out/northwind.db" < "$src" >/dev/null ;;
    *) cp "$src" "$out/northwind.db" ;;
esac
pg_server northwind
fresh_db northwind
"$BRU" backup "sqlite://$out/northwind.db" "$out/nw.bru" --quiet
"$BRU" restore "$out/nw.bru" "$(url northwind)" --dry-run > "$out/plan.txt"
"$BRU" restore "$out/nw.bru" "$(url northwind)" > "$out/summary.txt"

python3 - "$out" "$(url northwind)" <<'EOF'
import re, sqlite3, subprocess, sys
out, url = sys.argv[1], sys.argv[2]
summary = open(f"{out}/summary.txt").read().splitlines()
db = sqlite3.connect(f"{out}/northwind.db")
views = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='view' ORDER BY name")]
checks = sum(len(re.findall(r"\bCHECK\s*\(", s or "", re.I))
             for (s,) in db.execute("SELECT sql FROM sqlite_master WHERE type='table'"))
stamp = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}:\d{2})(?:\.(\d+))?)?$")

def cell(v):
    if v is None:
        return ""
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    v = str(v)
    m = stamp.match(v)
    if m:
        frac = (m.group(3) or "").rstrip("0")
        return f"{m.group(1)} {m.group(2) or '00:00:00'}" + (f".{frac}" if frac else "")
    return v

def pg(view):
    r = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-F", "\x1f", "-d", url, "-c",
                        f'SELECT * FROM public."{view}"'], capture_output=True, text=True, check=True)
    rows = []
    for line in r.stdout.splitlines():
        rows.append("\x1f".join(cell(c) for c in line.split("\x1f")))
    return sorted(rows)

def lite(view):
    return sorted("\x1f".join(cell(c) for c in row) for row in db.execute(f'SELECT * FROM "{view}"'))

equal, differ, skipped = [], [], []
for v in views:
    line = next((l for l in summary if l.startswith(f"skipped: view {v}: ")), None)
    if line:
        m = re.search(r"not translated from sqlite \((.*?)\): CREATE", line)
        skipped.append((v, m.group(1) if m else line))
        continue
    a, b = lite(v), pg(v)
    (equal if a == b else differ).append((v, len(a)))
ct = [l for l in open(f"{out}/plan.txt") if re.match(r"translated: table .*: CHECK", l)]
cs = [l for l in open(f"{out}/plan.txt") if re.match(r"left out: table .*: CHECK", l)]
dt = [l for l in open(f"{out}/plan.txt") if re.match(r"translated: table .*: default", l)]
ds = [l for l in open(f"{out}/plan.txt") if re.match(r"left out: table .*: default", l)]
print(f"- views: {len(views)}; translated and equal by query: {len(equal)}; "
      f"translated but different: {len(differ)}; skipped with the construct named: {len(skipped)}")
for v, n in equal:
    print(f"  - equal: {v} ({n} rows)")
for v, n in differ:
    print(f"  - DIFFERENT: {v}")
for v, why in skipped:
    print(f"  - skipped: {v}: {why}")
print(f"- CHECKs: {checks} in the schema; translated: {len(ct)}; skipped: {len(cs)}")
print(f"- defaults: translated: {len(dt)}; skipped: {len(ds)}")
for l in cs + ds:
    print(f"  - {l.strip()}")
sys.exit(1 if differ else 0)
EOF
