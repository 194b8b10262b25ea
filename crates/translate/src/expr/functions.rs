//! The function table: each function that has an exact counterpart, with
//! the kinds of arguments for which it is exact (docs/type-mapping.md,
//! "SQL translation", lists them with the reasons). Any other function, or
//! one of these on other kinds, is refused by name.

use sqlparser::ast::{
    DuplicateTreatment, Function, FunctionArg, FunctionArgExpr, FunctionArguments, ObjectNamePart,
};

use super::{Ctx, Lit, Out};
use crate::kind::Kind;
use crate::{refuse, Dialect, Refusal, Result};

/// Translates a call of `f`.
pub(crate) fn call(cx: &mut Ctx<'_, '_>, f: &Function) -> Result<Out> {
    let name = match f.name.0.as_slice() {
        [ObjectNamePart::Identifier(id)] => id.value.to_ascii_lowercase(),
        _ => return refuse(format!("the function {}", f.name)),
    };
    if f.over.is_some() {
        return refuse(format!("the window function {name}(…) OVER"));
    }
    if f.filter.is_some() || !f.within_group.is_empty() || f.null_treatment.is_some() {
        return refuse(format!("{name}(…) with FILTER, WITHIN GROUP or NULLS"));
    }
    if !matches!(f.parameters, FunctionArguments::None) {
        return refuse(format!("the parameterised function {name}"));
    }
    let (distinct, args): (bool, Vec<&FunctionArg>) = match &f.args {
        FunctionArguments::None => return niladic(cx, &name),
        FunctionArguments::Subquery(_) => return refuse(format!("{name} over a subquery")),
        FunctionArguments::List(list) => {
            if !list.clauses.is_empty() {
                return refuse(format!("{name}(…) with clauses in its arguments"));
            }
            (
                matches!(list.duplicate_treatment, Some(DuplicateTreatment::Distinct)),
                list.args.iter().collect(),
            )
        }
    };
    let star = matches!(
        args.as_slice(),
        [FunctionArg::Unnamed(FunctionArgExpr::Wildcard)]
    );
    if name == "count" && star && !distinct {
        cx.saw_aggregate = true;
        // SQL Server's count is a 32-bit int; COUNT_BIG the 64 bits of the
        // others.
        let sql = if cx.to_mssql() {
            "COUNT_BIG(*)"
        } else {
            "count(*)"
        };
        return Ok(Out::new(sql.into(), Kind::Int));
    }
    let exprs: Vec<&sqlparser::ast::Expr> = args
        .iter()
        .map(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Ok(e),
            _ => refuse(format!("the arguments of {name}")),
        })
        .collect::<Result<_>>()?;
    let aggregate = matches!(
        name.as_str(),
        "count" | "sum" | "avg" | "min" | "max" | "total"
    ) && exprs.len() == 1;
    if aggregate {
        return self::aggregate(cx, &name, distinct, exprs[0]);
    }
    if distinct {
        return refuse(format!("DISTINCT in {name}(…)"));
    }
    let was = cx.in_aggregate;
    let out = scalar(cx, &name, &exprs);
    cx.in_aggregate = was;
    out
}

fn niladic(cx: &mut Ctx<'_, '_>, name: &str) -> Result<Out> {
    let _ = cx;
    match name {
        "current_timestamp" | "current_date" | "current_time" | "localtimestamp" | "now" => {
            refuse(format!(
                "{} (SQLite gives UTC text, PostgreSQL a typed value in the session's time zone)",
                name.to_ascii_uppercase()
            ))
        }
        _ => refuse(name.to_ascii_uppercase()),
    }
}

fn aggregate(
    cx: &mut Ctx<'_, '_>,
    name: &str,
    distinct: bool,
    e: &sqlparser::ast::Expr,
) -> Result<Out> {
    if cx.in_aggregate {
        return refuse(format!("{name}(…) inside another aggregate"));
    }
    cx.in_aggregate = true;
    let v = cx.value(e);
    cx.in_aggregate = false;
    let v = v?;
    cx.saw_aggregate = true;
    let d = if distinct { "DISTINCT " } else { "" };
    let to_pg = cx.to_pg();
    let pg_source = cx.from() != Dialect::Sqlite;
    let mssql = cx.mssql();
    let to_mssql = cx.to_mssql();
    let from_sqlite = cx.from() == Dialect::Sqlite;
    match (name, v.kind) {
        ("count", Kind::Text) if to_mssql && distinct => {
            refuse("count(DISTINCT …) of text (SQL Server compares text by the column's collation)")
        }
        ("count", _) if to_mssql => Ok(Out::new(format!("COUNT_BIG({d}{})", v.sql), Kind::Int)),
        ("count", _) => Ok(Out::new(format!("count({d}{})", v.sql), Kind::Int)),
        ("min" | "max", Kind::Text) if to_mssql => refuse(format!(
            "{name}(…) of text (SQL Server orders text by the column's collation)"
        )),
        // SQL Server's sum of an int column is an int, which overflows at
        // 2^31: summed as bigint, which the other engines' sums are.
        ("sum", Kind::Int) if to_mssql => Ok(Out::new(
            format!("sum({d}CAST({} AS bigint))", v.sql),
            Kind::Int,
        )),
        ("avg", Kind::Int) if to_mssql && from_sqlite && !distinct => Ok(Out::new(
            format!(
                "(CAST(sum(CAST({0} AS bigint)) AS float) / NULLIF(COUNT_BIG({0}), 0))",
                v.sql
            ),
            Kind::Float,
        )),
        ("avg", Kind::Int) if mssql => refuse(
            "avg(…) of integers (SQL Server's is an integer, truncated; the others divide exactly)",
        ),
        ("min" | "max", Kind::Text) if mssql => refuse(format!(
            "{name}(…) of text (SQL Server orders it by the column's collation)"
        )),
        // PostgreSQL's sum of bigint is numeric; cast back, the sum is the
        // same integer (and an overflow fails in both).
        ("sum", Kind::Int) if to_pg => Ok(Out::new(
            format!("CAST(sum({d}{}) AS bigint)", v.sql),
            Kind::Int,
        )),
        ("sum", Kind::Int) => Ok(Out::new(format!("sum({d}{})", v.sql), Kind::Int)),
        // SQLite's avg of integers is their exact sum divided as a double.
        ("avg", Kind::Int) if to_pg && !distinct => Ok(Out::new(
            format!(
                "(CAST(sum({0}) AS double precision) / NULLIF(count({0}), 0))",
                v.sql
            ),
            Kind::Float,
        )),
        ("min" | "max", k) if k.is_number() && !(pg_source && k == Kind::Decimal) => {
            Ok(Out::new(format!("{name}({d}{})", v.sql), k))
        }
        ("min" | "max", Kind::Text) if to_pg => Ok(Out::new(
            format!("{name}({d}{} COLLATE \"C\")", v.sql),
            Kind::Text,
        )),
        ("min" | "max", Kind::Text) if v.bytewise => {
            Ok(Out::new(format!("{name}({d}{})", v.sql), Kind::Text))
        }
        ("sum" | "avg", Kind::Float) => refuse(format!(
            "{name}(…) of floating-point values (the engines add them in different orders and \
             precisions)"
        )),
        (_, k) => refuse(format!("{name}(…) of {}", k.noun())),
    }
}

pub(crate) fn scalar(
    cx: &mut Ctx<'_, '_>,
    name: &str,
    args: &[&sqlparser::ast::Expr],
) -> Result<Out> {
    let to_pg = cx.to_pg();
    let from = cx.from();
    let vals =
        |cx: &mut Ctx<'_, '_>| -> Result<Vec<Out>> { args.iter().map(|e| cx.value(e)).collect() };
    let need = |n: std::ops::RangeInclusive<usize>| -> Result<()> {
        if n.contains(&args.len()) {
            Ok(())
        } else {
            refuse(format!("{name}(…) with {} arguments", args.len()))
        }
    };
    // coalesce, nullif and abs mean the same in SQL Server.
    if from == Dialect::Mssql && !matches!(name, "coalesce" | "nullif" | "abs") {
        return mssql_scalar(cx, name, args);
    }
    if cx.to_mssql() && !matches!(name, "coalesce" | "ifnull" | "nullif" | "abs") {
        return refuse(format!(
            "{name}(…) into SQL Server (its text functions follow the column's collation and \
             count UTF-16 code units; its date functions have their own types and precisions)"
        ));
    }
    match name {
        "coalesce" | "ifnull" if from == Dialect::Sqlite || name == "coalesce" => {
            need(2..=64)?;
            if name == "ifnull" && args.len() != 2 {
                return refuse("ifnull(…) without two arguments");
            }
            let v = vals(cx)?;
            let mut kind = Kind::Null;
            for o in &v {
                kind = kind.unify(o.kind).ok_or_else(|| {
                    Refusal(format!(
                        "{name}(…) mixing {} and {} (the engines give the result different types)",
                        kind.noun(),
                        o.kind.noun()
                    ))
                })?;
            }
            if matches!(
                kind,
                Kind::Temporal | Kind::Other | Kind::Uuid | Kind::Decimal
            ) && from != Dialect::Sqlite
            {
                return refuse(format!("{name}(…) of {}", kind.noun()));
            }
            let list: Vec<String> = v.into_iter().map(|o| o.sql).collect();
            Ok(Out::new(format!("COALESCE({})", list.join(", ")), kind))
        }
        "nullif" => {
            need(2..=2)?;
            let k = cx.value(args[0])?.kind;
            if k == Kind::Text && cx.to_mssql() {
                return refuse(
                    "nullif(…) of text (SQL Server compares text by the column's collation)",
                );
            }
            let (a, b) = cx.comparison_operands(args[0], args[1], false)?;
            Ok(Out::new(format!("NULLIF({a}, {b})"), k))
        }
        "abs" => {
            need(1..=1)?;
            let v = one(cx, args)?;
            match v.kind {
                Kind::Int | Kind::Float | Kind::Null => {
                    Ok(Out::new(format!("abs({})", v.sql), v.kind))
                }
                k => refuse(format!("abs(…) of {}", k.noun())),
            }
        }
        "length" | "char_length" if from == Dialect::Sqlite || name == "length" => {
            need(1..=1)?;
            let v = one(cx, args)?;
            text_only(name, &v)?;
            Ok(Out::new(
                bigint(to_pg, format!("length({})", v.sql)),
                Kind::Int,
            ))
        }
        // SQLite's upper and lower change ASCII letters only, as
        // PostgreSQL's do under the "C" collation.
        "upper" | "lower" => {
            need(1..=1)?;
            let v = one(cx, args)?;
            text_only(name, &v)?;
            if to_pg {
                Ok(Out::new(
                    format!("{name}({} COLLATE \"C\")", v.sql),
                    Kind::Text,
                ))
            } else if v.bytewise {
                Ok(Out::new(format!("{name}({})", v.sql), Kind::Text))
            } else {
                refuse(format!(
                    "{name}(…) under the database's collation (PostgreSQL changes every \
                     letter, SQLite ASCII only; write COLLATE \"C\")"
                ))
            }
        }
        // Both remove spaces only, or the characters of the second
        // argument.
        "trim" | "ltrim" | "rtrim" | "btrim" if from == Dialect::Sqlite || name != "trim" => {
            need(1..=2)?;
            let v = vals(cx)?;
            for o in &v {
                text_only(name, o)?;
            }
            let target = match (name, to_pg) {
                ("trim" | "btrim", true) => "btrim",
                ("trim" | "btrim", false) => "trim",
                (n, _) => n,
            };
            let list: Vec<String> = v.into_iter().map(|o| o.sql).collect();
            Ok(Out::new(
                format!("{target}({})", list.join(", ")),
                Kind::Text,
            ))
        }
        "replace" => {
            need(3..=3)?;
            let v = vals(cx)?;
            for o in &v {
                text_only(name, o)?;
            }
            let list: Vec<String> = v.into_iter().map(|o| o.sql).collect();
            Ok(Out::new(
                format!("replace({})", list.join(", ")),
                Kind::Text,
            ))
        }
        // SQLite counts a start below 1 from the end, PostgreSQL does not:
        // only positive literal starts and non-negative literal lengths.
        "substr" | "substring" if from == Dialect::Sqlite || name == "substr" => {
            need(2..=3)?;
            let v = vals(cx)?;
            text_only(name, &v[0])?;
            match v[1].lit {
                Some(Lit::Int(n)) if n >= 1 => {}
                _ => {
                    return refuse(format!(
                        "{name}(…) with a start that is not a literal of 1 or more"
                    ))
                }
            }
            if let Some(len) = v.get(2) {
                match len.lit {
                    Some(Lit::Int(n)) if n >= 0 => {}
                    _ => {
                        return refuse(format!(
                            "{name}(…) with a length that is not a literal of 0 or more"
                        ))
                    }
                }
            }
            let list: Vec<String> = v.into_iter().map(|o| o.sql).collect();
            Ok(Out::new(format!("substr({})", list.join(", ")), Kind::Text))
        }
        // Both count characters from 1, and 0 when not found.
        "instr" if from == Dialect::Sqlite => {
            need(2..=2)?;
            let v = vals(cx)?;
            for o in &v {
                text_only(name, o)?;
            }
            Ok(Out::new(
                format!("strpos({}, {})", v[0].sql, v[1].sql),
                Kind::Int,
            ))
        }
        "strpos" if from == Dialect::Postgres => {
            need(2..=2)?;
            let v = vals(cx)?;
            for o in &v {
                text_only(name, o)?;
            }
            Ok(Out::new(
                format!("instr({}, {})", v[0].sql, v[1].sql),
                Kind::Int,
            ))
        }
        "date" | "time" | "datetime" | "julianday" | "strftime" | "unixepoch" => refuse(format!(
            "the date function {name}(…) (SQLite's work on text, PostgreSQL's types differ)"
        )),
        "round" => refuse(
            "round(…) (SQLite rounds halves away from zero, PostgreSQL's float round to even)",
        ),
        "min" | "max" => refuse(format!(
            "the scalar {name}(…) of several arguments (SQLite gives NULL when one is NULL, \
             LEAST/GREATEST ignore it)"
        )),
        _ => refuse(format!("the function {name}(…)")),
    }
}

/// A function of SQL Server's: the few whose meaning the targets share;
/// the text functions follow the column's collation there (and `len`
/// ignores trailing spaces), so they are refused by name.
fn mssql_scalar(cx: &mut Ctx<'_, '_>, name: &str, args: &[&sqlparser::ast::Expr]) -> Result<Out> {
    match name {
        // ISNULL gives its first argument's type (cutting a longer text to
        // it): exact for two values of one numeric kind.
        "isnull" => {
            if args.len() != 2 {
                return refuse("isnull(…) without two arguments");
            }
            let a = cx.value(args[0])?;
            let b = cx.value(args[1])?;
            match (a.kind, b.kind) {
                (Kind::Int, Kind::Int | Kind::Null) | (Kind::Float, Kind::Float | Kind::Null) => {
                    Ok(Out::new(format!("COALESCE({}, {})", a.sql, b.sql), a.kind))
                }
                (x, y) => refuse(format!(
                    "isnull(…) of {} and {} (SQL Server converts the second to the first's type)",
                    x.noun(),
                    y.noun()
                )),
            }
        }
        "newid" if args.is_empty() && cx.to_pg() => {
            Ok(Out::new("gen_random_uuid()".into(), Kind::Uuid))
        }
        "newid" => refuse("newid() (SQLite has no uuid function)"),
        "len" | "datalength" => refuse(format!(
            "{name}(…) (SQL Server's ignores trailing spaces or counts bytes)"
        )),
        "upper" | "lower" | "replace" | "charindex" | "patindex" | "ltrim" | "rtrim" | "trim"
        | "substring" | "left" | "right" => refuse(format!(
            "{name}(…) (SQL Server's follows the column's collation and its own rules for text)"
        )),
        "getdate" | "getutcdate" | "sysdatetime" | "sysutcdatetime" | "sysdatetimeoffset"
        | "current_timestamp" => refuse(format!(
            "{name}() (SQL Server's current time, at its own precision and time zone; give the \
             column a default on the target yourself)"
        )),
        _ => refuse(format!("the function {name}(…)")),
    }
}

/// An integer function's result, which PostgreSQL gives as a 32-bit
/// integer, as a bigint (SQLite's integers have 64 bits).
fn bigint(to_pg: bool, sql: String) -> String {
    if to_pg {
        format!("CAST({sql} AS bigint)")
    } else {
        sql
    }
}

fn one(cx: &mut Ctx<'_, '_>, args: &[&sqlparser::ast::Expr]) -> Result<Out> {
    cx.value(args[0])
}

fn text_only(name: &str, v: &Out) -> Result<()> {
    match v.kind {
        Kind::Text | Kind::Null => Ok(()),
        k => refuse(format!("{name}(…) of {}", k.noun())),
    }
}
