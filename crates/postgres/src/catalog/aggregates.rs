//! Aggregates (`CREATE AGGREGATE`), built from `pg_aggregate` clause by
//! clause as pg_dump's `dumpAgg` builds them: the server has no
//! `pg_get_aggregatedef`, and `pg_get_functiondef` refuses aggregates.
//!
//! Every clause pg_dump writes is carried: the state function and type,
//! SSPACE, INITCOND, FINALFUNC with FINALFUNC_EXTRA and FINALFUNC_MODIFY
//! (when not the kind's default), COMBINEFUNC, SERIALFUNC, DESERIALFUNC,
//! the moving-aggregate set (MSFUNC, MINVFUNC, MSTYPE, MSSPACE, MINITCOND,
//! MFINALFUNC…), SORTOP, HYPOTHETICAL and PARALLEL; ordered-set aggregates
//! keep their `ORDER BY` signature (`pg_get_function_arguments`). Function
//! names are written schema-qualified, so they resolve the same in the
//! restore's empty `search_path`.
//!
//! An aggregate is pre-data, as in pg_dump (a view or a column default
//! uses it), unless it or one of its support functions uses a table's row
//! type: then it needs the tables, and comes after them.

use bru_core::{Error, ObjectKind, Section};

use crate::conn::Conn;
use crate::quote::ident;

use super::{each_row, not_extension_member, object, Read, USER_NAMESPACE};

/// `oid` (a `regproc` column) as a schema-qualified function name, NULL
/// for none (`0`).
pub(super) fn qualified_proc(oid: &str) -> String {
    format!(
        "(SELECT pg_catalog.quote_ident(fn.nspname) || '.' || pg_catalog.quote_ident(fp.proname)
           FROM pg_catalog.pg_proc fp JOIN pg_catalog.pg_namespace fn ON fn.oid = fp.pronamespace
          WHERE fp.oid = {oid})"
    )
}

/// `oid` (of a `pg_operator` row) as `OPERATOR(schema.name)`, NULL for
/// none, as pg_dump's `getFormattedOperatorName` writes it.
pub(super) fn qualified_operator(oid: &str) -> String {
    format!(
        "(SELECT 'OPERATOR(' || pg_catalog.quote_ident(opn.nspname) || '.' || op.oprname::text || ')'
           FROM pg_catalog.pg_operator op JOIN pg_catalog.pg_namespace opn ON opn.oid = op.oprnamespace
          WHERE op.oid = {oid})"
    )
}

/// Whether the `pg_proc` row `oid` uses a table's (or view's) row type in
/// its signature, so that it can only be created after the tables.
pub(super) fn uses_row_type(oid: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_type t ON t.oid = d.refobjid
                   JOIN pg_catalog.pg_class c ON c.oid = t.typrelid
                  WHERE d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND d.objid = {oid}
                    AND d.refclassid = 'pg_catalog.pg_type'::pg_catalog.regclass
                    AND c.relkind IN ('r', 'p', 'v', 'm', 'f'))"
    )
}

/// The user's aggregates, each an [`ObjectKind::Aggregate`] named by its
/// signature (`group_concat(text)`), in creation order.
pub(super) fn read_aggregates(conn: &Conn) -> Result<Vec<Read>, Error> {
    let support = [
        "a.aggtransfn",
        "a.aggfinalfn",
        "a.aggcombinefn",
        "a.aggserialfn",
        "a.aggdeserialfn",
        "a.aggmtransfn",
        "a.aggminvtransfn",
        "a.aggmfinalfn",
    ];
    let support_cols: Vec<String> = support.iter().map(|f| qualified_proc(f)).collect();
    let support_use_rows: Vec<String> = support
        .iter()
        .map(|f| format!("({f} <> 0 AND {})", uses_row_type(f)))
        .collect();
    each_row(
        conn,
        &format!(
            "SELECT p.oid, n.nspname::text, p.proname::text, p.oid::pg_catalog.regprocedure::text,
                    pg_catalog.pg_get_function_arguments(p.oid), a.aggkind::text,
                    {support},
                    a.aggtranstype::pg_catalog.regtype::text,
                    CASE WHEN a.aggmtranstype <> 0 THEN a.aggmtranstype::pg_catalog.regtype::text END,
                    a.aggtransspace, a.aggmtransspace, a.agginitval, a.aggminitval,
                    a.aggfinalextra, a.aggmfinalextra, a.aggfinalmodify::text, a.aggmfinalmodify::text,
                    {sortop}, p.proparallel::text,
                    {rows} OR {support_rows}
             FROM pg_catalog.pg_aggregate a JOIN pg_catalog.pg_proc p ON p.oid = a.aggfnoid
             JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
             WHERE {USER_NAMESPACE} AND {member}
             ORDER BY p.oid",
            support = support_cols.join(",\n                    "),
            sortop = qualified_operator("a.aggsortop"),
            rows = uses_row_type("p.oid"),
            support_rows = support_use_rows.join(" OR "),
            member = not_extension_member("pg_proc", "p.oid"),
        ),
        &[],
        "reading aggregates",
        |r| {
            let oid: u32 = get!(r, 0);
            let schema: String = get!(r, 1);
            let name: String = get!(r, 2);
            let signature: String = get!(r, 3);
            let args: String = get!(r, 4);
            let kind: String = get!(r, 5);
            let func = |i: usize| -> Result<Option<String>, Error> { Ok(get!(r, 6 + i)) };
            let (transfn, finalfn, combinefn, serialfn, deserialfn) =
                (func(0)?, func(1)?, func(2)?, func(3)?, func(4)?);
            let (mtransfn, minvtransfn, mfinalfn) = (func(5)?, func(6)?, func(7)?);
            let transtype: String = get!(r, 14);
            let mtranstype: Option<String> = get!(r, 15);
            let transspace: i32 = get!(r, 16);
            let mtransspace: i32 = get!(r, 17);
            let initval: Option<String> = get!(r, 18);
            let minitval: Option<String> = get!(r, 19);
            let finalextra: bool = get!(r, 20);
            let mfinalextra: bool = get!(r, 21);
            let finalmodify: String = get!(r, 22);
            let mfinalmodify: String = get!(r, 23);
            let sortop: Option<String> = get!(r, 24);
            let parallel: String = get!(r, 25);
            let needs_tables: bool = get!(r, 26);

            let transfn = transfn.ok_or_else(|| {
                Error::engine(
                    "reading aggregates",
                    format!("aggregate {signature} has no state function"),
                )
            })?;
            // As DefineAggregate: ordered-set and hypothetical-set
            // aggregates' final functions may modify the state by default.
            let default_modify = if kind == "n" { "r" } else { "w" };
            let modify = |m: &str| match m {
                "r" => "READ_ONLY",
                "s" => "SHAREABLE",
                _ => "READ_WRITE",
            };
            let mut clauses = vec![
                format!("SFUNC = {transfn}"),
                format!("STYPE = {transtype}"),
            ];
            if transspace != 0 {
                clauses.push(format!("SSPACE = {transspace}"));
            }
            if let Some(v) = initval {
                clauses.push(format!("INITCOND = {}", crate::quote::quote_literal(&v)));
            }
            if let Some(f) = finalfn {
                clauses.push(format!("FINALFUNC = {f}"));
                if finalextra {
                    clauses.push("FINALFUNC_EXTRA".into());
                }
                if finalmodify != default_modify {
                    clauses.push(format!("FINALFUNC_MODIFY = {}", modify(&finalmodify)));
                }
            }
            for (clause, f) in [
                ("COMBINEFUNC", combinefn),
                ("SERIALFUNC", serialfn),
                ("DESERIALFUNC", deserialfn),
            ] {
                if let Some(f) = f {
                    clauses.push(format!("{clause} = {f}"));
                }
            }
            if let Some(f) = mtransfn {
                clauses.push(format!("MSFUNC = {f}"));
                if let Some(inv) = minvtransfn {
                    clauses.push(format!("MINVFUNC = {inv}"));
                }
                if let Some(t) = mtranstype {
                    clauses.push(format!("MSTYPE = {t}"));
                }
            }
            if mtransspace != 0 {
                clauses.push(format!("MSSPACE = {mtransspace}"));
            }
            if let Some(v) = minitval {
                clauses.push(format!("MINITCOND = {}", crate::quote::quote_literal(&v)));
            }
            if let Some(f) = mfinalfn {
                clauses.push(format!("MFINALFUNC = {f}"));
                if mfinalextra {
                    clauses.push("MFINALFUNC_EXTRA".into());
                }
                if mfinalmodify != default_modify {
                    clauses.push(format!("MFINALFUNC_MODIFY = {}", modify(&mfinalmodify)));
                }
            }
            if let Some(op) = sortop {
                clauses.push(format!("SORTOP = {op}"));
            }
            if kind == "h" {
                clauses.push("HYPOTHETICAL".into());
            }
            match parallel.as_str() {
                "s" => clauses.push("PARALLEL = safe".into()),
                "r" => clauses.push("PARALLEL = restricted".into()),
                _ => {}
            }
            let args = if args.is_empty() { "*".into() } else { args };
            let ddl = format!(
                "CREATE AGGREGATE {}.{}({args}) (\n    {}\n)",
                ident(&schema),
                ident(&name),
                clauses.join(",\n    ")
            );
            let short = signature
                .strip_prefix(&format!("{}.", ident(&schema)))
                .unwrap_or(&signature)
                .to_owned();
            let mut def = object(ObjectKind::Aggregate, Some(&schema), &short, ddl);
            def.section = Some(if needs_tables {
                Section::PostData
            } else {
                Section::PreData
            });
            Ok(Read::new(def, "pg_proc", oid))
        },
    )
}
