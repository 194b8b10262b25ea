//! Queries and views: SELECT with joins, WHERE, GROUP BY, HAVING, ORDER BY,
//! LIMIT/OFFSET, UNION/INTERSECT/EXCEPT and subqueries.
//!
//! A translated view always names its columns (`CREATE VIEW v (a, b) AS`),
//! so they are those of the source's view whatever each engine would call
//! an expression; `ORDER BY` gets explicit `NULLS FIRST`/`LAST` (SQLite
//! sorts NULL first, PostgreSQL last) and byte order for text.

use sqlparser::ast::{
    Distinct, Expr, GroupByExpr, Join, JoinConstraint, JoinOperator, LimitClause, ObjectNamePart,
    OrderBy, OrderByKind, Query, Select, SelectItem, SelectItemQualifiedWildcardKind, SetExpr,
    SetOperator, SetQuantifier, Statement, TableFactor, TableWithJoins, Value,
};

use super::{short, Ctx, ScopeRel};
use crate::kind::Kind;
use crate::names::{quote, same, target_relation};
use crate::{refuse, Dialect, Refusal, Result, TranslatedView, Translator};

/// What starts the name of an output column computed without AS, followed
/// by its source text.
const UNNAMED: char = '\0';

/// The view `name` from its source `CREATE VIEW` statement.
pub(crate) fn view(
    t: &Translator<'_>,
    name: &bru_core::TableName,
    ddl: &str,
) -> Result<TranslatedView> {
    let d = t.from.parser();
    let statements = sqlparser::parser::Parser::parse_sql(d.as_ref(), ddl).map_err(|e| {
        Refusal(format!(
            "the {} SQL parser cannot parse it: {e}",
            t.from.display_name()
        ))
    })?;
    let [Statement::CreateView {
        materialized: false,
        name: view_name,
        columns,
        query: view_query,
        or_replace: false,
        or_alter: false,
        ..
    }] = statements.as_slice()
    else {
        return refuse("a statement other than one plain CREATE VIEW");
    };
    let last = match view_name.0.last() {
        Some(ObjectNamePart::Identifier(id)) => id,
        _ => return refuse(format!("the view name {view_name}")),
    };
    if !same(t.from, last, &name.name) {
        return refuse(format!(
            "a CREATE VIEW of {view_name}, not of {}",
            name.name
        ));
    }
    let mut cx = Ctx::new(t, true);
    let (sql, mut out_columns) = query(&mut cx, view_query)?;
    if !columns.is_empty() {
        if columns.len() != out_columns.len() {
            return refuse("a column list whose length is not the query's");
        }
        for (c, out) in columns.iter().zip(out_columns.iter_mut()) {
            if c.data_type.is_some() || c.options.is_some() {
                return refuse("view columns with types or options");
            }
            out.0 = c.name.value.clone();
        }
    }
    if let Some((c, _)) = out_columns.iter().find(|(c, _)| c.starts_with(UNNAMED)) {
        return refuse(format!(
            "a view column computed without a name ({}; SQLite names it by its text): give it \
             one with AS",
            &c[UNNAMED.len_utf8()..]
        ));
    }
    for (i, (a, _)) in out_columns.iter().enumerate() {
        if out_columns[..i]
            .iter()
            .any(|(b, _)| a.eq_ignore_ascii_case(b))
        {
            return refuse(format!(
                "two view columns named {a} (SQLite renames the second, PostgreSQL refuses)"
            ));
        }
    }
    let names: Vec<String> = out_columns.iter().map(|(c, _)| quote(c)).collect();
    let mut reads = cx.reads;
    reads.sort();
    reads.dedup();
    Ok(TranslatedView {
        ddl: format!(
            "CREATE VIEW {} ({}) AS\n{sql}",
            target_relation(t.to, name),
            names.join(", ")
        ),
        reads,
        columns: out_columns,
    })
}

/// A query, with its output columns.
pub(crate) fn query(cx: &mut Ctx<'_, '_>, q: &Query) -> Result<(String, Vec<(String, Kind)>)> {
    if q.with.is_some() {
        return refuse("WITH (common table expressions)");
    }
    if q.fetch.is_some()
        || !q.locks.is_empty()
        || q.for_clause.is_some()
        || q.settings.is_some()
        || q.format_clause.is_some()
        || !q.pipe_operators.is_empty()
    {
        return refuse("FETCH, FOR, SETTINGS or another clause after the query");
    }
    let (mut sql, columns) = set_expr(cx, &q.body, q.order_by.as_ref())?;
    let ordered = q.order_by.is_some();
    if let Some(limit) = &q.limit_clause {
        sql.push_str(&limit_clause(cx, limit, ordered)?);
    } else if ordered && cx.to_mssql() {
        // T-SQL allows ORDER BY in a view or subquery only with TOP or
        // OFFSET; the rows are the same.
        sql.push_str(" OFFSET 0 ROWS");
    }
    Ok((sql, columns))
}

fn set_expr(
    cx: &mut Ctx<'_, '_>,
    body: &SetExpr,
    order_by: Option<&OrderBy>,
) -> Result<(String, Vec<(String, Kind)>)> {
    match body {
        SetExpr::Select(s) => select(cx, s, order_by),
        SetExpr::Query(q) if order_by.is_none() => {
            let (sql, cols) = cx.subquery(q)?;
            named_for_mssql(cx, &cols)?;
            Ok((format!("SELECT * FROM ({sql}) AS \"bru_q\""), cols))
        }
        SetExpr::SetOperation {
            op,
            set_quantifier,
            left,
            right,
        } => {
            let (l, lc) = set_expr(cx, left, None)?;
            let (r, rc) = set_expr(cx, right, None)?;
            if lc.len() != rc.len() {
                return refuse(format!("{op} of queries with different column counts"));
            }
            let mut cols = Vec::new();
            for ((name, a), (_, b)) in lc.iter().zip(&rc) {
                let k = a.unify(*b).ok_or_else(|| {
                    Refusal(format!(
                        "{op} of a column of {} with one of {} (the engines give it different types)",
                        a.noun(),
                        b.noun()
                    ))
                })?;
                if matches!(k, Kind::Temporal | Kind::Other | Kind::Uuid)
                    || (k == Kind::Decimal && cx.from() != Dialect::Sqlite)
                {
                    return refuse(format!("{op} of {} columns", k.noun()));
                }
                let removes_duplicates = !(matches!(op, SetOperator::Union)
                    && matches!(set_quantifier, SetQuantifier::All));
                if k == Kind::Text && cx.to_mssql() && removes_duplicates {
                    return refuse(format!(
                        "{op} of text columns (SQL Server finds duplicates by the column's \
                         collation)"
                    ));
                }
                cols.push((name.clone(), k));
            }
            let op_sql = match op {
                SetOperator::Union => "UNION",
                SetOperator::Intersect => "INTERSECT",
                SetOperator::Except => "EXCEPT",
                other => return refuse(format!("the set operator {other}")),
            };
            let q = match set_quantifier {
                SetQuantifier::None | SetQuantifier::Distinct => "",
                SetQuantifier::All if matches!(op, SetOperator::Union) => " ALL",
                other => return refuse(format!("{op} {other}")),
            };
            let mut sql = format!("{l} {op_sql}{q} {r}");
            if let Some(order) = order_by {
                // Sorted outside, where byte order can be asked of the
                // output columns (a UNION's ORDER BY may name only them).
                let wrapped = ScopeRel {
                    name: "bru_set".into(),
                    schema: None,
                    target: "\"bru_set\"".into(),
                    columns: cols.clone(),
                };
                let proj: Vec<Projected> = cols
                    .iter()
                    .map(|(n, k)| Projected {
                        name: n.clone(),
                        kind: *k,
                        sql: format!("\"bru_set\".{}", quote(n)),
                    })
                    .collect();
                named_for_mssql(cx, &cols)?;
                cx.scopes.push(vec![wrapped]);
                let terms = order_terms(cx, order, &proj, true);
                cx.scopes.pop();
                sql = format!("SELECT * FROM ({sql}) AS \"bru_set\" ORDER BY {}", terms?);
            }
            Ok((sql, cols))
        }
        SetExpr::Values(_) => refuse("VALUES as a query"),
        _ => refuse("a query that is not a SELECT"),
    }
}

/// One output column of a SELECT.
struct Projected {
    name: String,
    kind: Kind,
    sql: String,
}

fn select(
    cx: &mut Ctx<'_, '_>,
    s: &Select,
    order_by: Option<&OrderBy>,
) -> Result<(String, Vec<(String, Kind)>)> {
    // SQL Server's TOP n with an ORDER BY is LIMIT n; without one, which
    // rows is the server's choice.
    let top = match &s.top {
        None => None,
        Some(t) if t.with_ties || t.percent => return refuse("TOP … PERCENT or WITH TIES"),
        Some(t) if order_by.is_none() => return refuse(format!("{t} without ORDER BY")),
        Some(sqlparser::ast::Top {
            quantity: Some(sqlparser::ast::TopQuantity::Constant(n)),
            ..
        }) => Some(*n),
        Some(t) => return refuse(format!("{t} of an expression")),
    };
    if s.into.is_some()
        || !s.lateral_views.is_empty()
        || s.prewhere.is_some()
        || !s.cluster_by.is_empty()
        || !s.distribute_by.is_empty()
        || !s.sort_by.is_empty()
        || !s.named_window.is_empty()
        || s.qualify.is_some()
        || s.connect_by.is_some()
        || s.exclude.is_some()
        || s.value_table_mode.is_some()
    {
        return refuse("a SELECT clause of another dialect (INTO, WINDOW, QUALIFY…)");
    }
    let distinct = match &s.distinct {
        None => "",
        Some(Distinct::Distinct) => "DISTINCT ",
        Some(Distinct::On(_)) => return refuse("DISTINCT ON"),
    };
    if s.top.is_some() && cx.to_mssql() {
        return refuse("TOP (only from SQL Server)");
    }
    let saved = (
        cx.in_aggregate,
        cx.saw_aggregate,
        std::mem::take(&mut cx.bare),
    );
    cx.saw_aggregate = false;
    cx.in_aggregate = false;
    cx.scopes.push(Vec::new());
    let result = select_in_scope(cx, s, distinct, order_by).map(|(mut sql, columns)| {
        if let Some(n) = top {
            sql.push_str(&format!(" LIMIT {n}"));
        }
        (sql, columns)
    });
    cx.scopes.pop();
    cx.in_aggregate = saved.0;
    cx.saw_aggregate = saved.1;
    cx.bare = saved.2;
    result
}

fn select_in_scope(
    cx: &mut Ctx<'_, '_>,
    s: &Select,
    distinct: &str,
    order_by: Option<&OrderBy>,
) -> Result<(String, Vec<(String, Kind)>)> {
    let mut from = Vec::new();
    for twj in &s.from {
        from.push(table_with_joins(cx, twj)?);
    }
    // The projection, each item with the bare columns it uses.
    let mut proj: Vec<Projected> = Vec::new();
    let mut items: Vec<(String, Vec<String>, bool)> = Vec::new();
    for item in &s.projection {
        cx.bare.clear();
        match item {
            SelectItem::Wildcard(opts) => {
                if opts.to_string().trim() != "" {
                    return refuse("* with EXCLUDE, REPLACE or RENAME");
                }
                let scope = cx.scopes.last().cloned().unwrap_or_default();
                if scope.is_empty() {
                    return refuse("* with no FROM");
                }
                for r in &scope {
                    for (n, k) in &r.columns {
                        proj.push(Projected {
                            name: n.clone(),
                            kind: *k,
                            sql: format!("{}.{}", r.target, quote(n)),
                        });
                    }
                }
                items.push(("*".into(), Vec::new(), true));
            }
            SelectItem::QualifiedWildcard(kind, opts) => {
                if opts.to_string().trim() != "" {
                    return refuse("* with EXCLUDE, REPLACE or RENAME");
                }
                let SelectItemQualifiedWildcardKind::ObjectName(name) = kind else {
                    return refuse("an expression's .*");
                };
                let [ObjectNamePart::Identifier(id)] = name.0.as_slice() else {
                    return refuse(format!("{name}.*"));
                };
                let from = cx.from();
                let scope = cx.scopes.last().cloned().unwrap_or_default();
                let r = scope
                    .iter()
                    .find(|r| same(from, id, &r.name))
                    .ok_or_else(|| Refusal(format!("{name}.*, which names nothing in the FROM")))?;
                for (n, k) in &r.columns {
                    proj.push(Projected {
                        name: n.clone(),
                        kind: *k,
                        sql: format!("{}.{}", r.target, quote(n)),
                    });
                }
                items.push((format!("{}.*", r.target), Vec::new(), true));
            }
            SelectItem::UnnamedExpr(e) => {
                let v = cx.value(e)?;
                // An expression without AS has a name in neither engine
                // that the other would give it: marked, and refused if it
                // becomes a view's column.
                let name = v
                    .name
                    .clone()
                    .unwrap_or_else(|| format!("{UNNAMED}{}", short(e)));
                items.push((v.sql.clone(), std::mem::take(&mut cx.bare), false));
                proj.push(Projected {
                    name,
                    kind: v.kind,
                    sql: v.sql,
                });
            }
            SelectItem::ExprWithAlias { expr, alias } => {
                let v = cx.value(expr)?;
                items.push((
                    format!("{} AS {}", v.sql, quote(&alias.value)),
                    std::mem::take(&mut cx.bare),
                    false,
                ));
                proj.push(Projected {
                    name: alias.value.clone(),
                    kind: v.kind,
                    sql: v.sql,
                });
            }
        }
    }
    if !distinct.is_empty() && cx.to_mssql() && proj.iter().any(|p| p.kind == Kind::Text) {
        return refuse(
            "SELECT DISTINCT of text (SQL Server finds duplicates by the column's collation)",
        );
    }
    let mut sql = format!(
        "SELECT {distinct}{}",
        items
            .iter()
            .map(|(s, _, _)| s.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    if !from.is_empty() {
        sql.push_str(&format!(" FROM {}", from.join(", ")));
    }
    if let Some(w) = &s.selection {
        cx.bare.clear();
        let c = cx.cond(w)?;
        sql.push_str(&format!(" WHERE {c}"));
    }
    let mut groups = Vec::new();
    match &s.group_by {
        GroupByExpr::Expressions(exprs, modifiers) if modifiers.is_empty() => {
            for e in exprs {
                let v = cx.value(e)?;
                if cx.to_mssql() && v.kind == Kind::Text {
                    return refuse(
                        "GROUP BY text (SQL Server groups text by the column's collation)",
                    );
                }
                if cx.to_mssql() && v.lit.is_some() {
                    return refuse(format!("GROUP BY {} (a position or constant)", short(e)));
                }
                groups.push(v.sql);
            }
        }
        GroupByExpr::Expressions(..) => return refuse("GROUP BY with ROLLUP, CUBE or TOTALS"),
        GroupByExpr::All(_) => return refuse("GROUP BY ALL"),
    }
    if !groups.is_empty() {
        sql.push_str(&format!(" GROUP BY {}", groups.join(", ")));
    }
    let mut having_bare = Vec::new();
    if let Some(h) = &s.having {
        cx.bare.clear();
        let c = cx.cond(h)?;
        having_bare = std::mem::take(&mut cx.bare);
        sql.push_str(&format!(" HAVING {c}"));
    }
    if cx.saw_aggregate || !groups.is_empty() {
        // SQLite lets a query with aggregates name a column it neither
        // groups nor aggregates (taking some row's value); PostgreSQL
        // refuses it.
        for (text, bare, wildcard) in &items {
            if *wildcard {
                return refuse("* in a query with GROUP BY or aggregates");
            }
            let plain = text.split(" AS ").next().unwrap_or(text);
            if groups.iter().any(|g| g == plain) {
                continue;
            }
            if let Some(b) = bare.iter().find(|b| !groups.contains(b)) {
                return refuse(format!(
                    "the column {b}, neither grouped nor aggregated (SQLite takes any row's value)"
                ));
            }
        }
        if let Some(b) = having_bare.iter().find(|b| !groups.contains(b)) {
            return refuse(format!(
                "the column {b} in HAVING, neither grouped nor aggregated"
            ));
        }
    }
    if let Some(order) = order_by {
        let terms = order_terms(cx, order, &proj, false)?;
        if !distinct.is_empty() && cx.to_mssql() && terms.contains("IS NULL THEN") {
            return refuse(
                "SELECT DISTINCT ordered with NULLs last (SQL Server sorts them first and may \
                 order a DISTINCT only by its columns)",
            );
        }
        sql.push_str(&format!(" ORDER BY {terms}"));
    }
    Ok((sql, proj.into_iter().map(|p| (p.name, p.kind)).collect()))
}

fn table_with_joins(cx: &mut Ctx<'_, '_>, twj: &TableWithJoins) -> Result<String> {
    let mut sql = table_factor(cx, &twj.relation)?;
    for j in &twj.joins {
        sql.push_str(&join(cx, j)?);
    }
    Ok(sql)
}

fn join(cx: &mut Ctx<'_, '_>, j: &Join) -> Result<String> {
    if j.global {
        return refuse("GLOBAL JOIN");
    }
    let (word, constraint) = match &j.join_operator {
        JoinOperator::Join(c) | JoinOperator::Inner(c) => ("JOIN", c),
        JoinOperator::Left(c) | JoinOperator::LeftOuter(c) => ("LEFT JOIN", c),
        JoinOperator::Right(c) | JoinOperator::RightOuter(c) => ("RIGHT JOIN", c),
        JoinOperator::FullOuter(c) => ("FULL JOIN", c),
        JoinOperator::CrossJoin(c) => ("CROSS JOIN", c),
        _ => return refuse("a join of another dialect (APPLY, SEMI, ANTI, ASOF…)"),
    };
    let relation = table_factor(cx, &j.relation)?;
    match constraint {
        JoinConstraint::On(e) => {
            if word == "CROSS JOIN" {
                return refuse("CROSS JOIN with ON");
            }
            let c = cx.cond(e)?;
            Ok(format!(" {word} {relation} ON {c}"))
        }
        // SQLite's JOIN without ON is a cross join.
        JoinConstraint::None if matches!(word, "JOIN" | "CROSS JOIN") => {
            Ok(format!(" CROSS JOIN {relation}"))
        }
        JoinConstraint::None => refuse(format!("{word} without ON")),
        JoinConstraint::Using(_) => refuse("JOIN … USING"),
        JoinConstraint::Natural => refuse("NATURAL JOIN"),
    }
}

fn table_factor(cx: &mut Ctx<'_, '_>, f: &TableFactor) -> Result<String> {
    match f {
        TableFactor::Table {
            name,
            alias,
            args: None,
            with_hints,
            version: None,
            with_ordinality: false,
            partitions,
            json_path: None,
            sample: None,
            index_hints,
        } if with_hints.is_empty() && partitions.is_empty() && index_hints.is_empty() => {
            let parts: Vec<sqlparser::ast::Ident> = name
                .0
                .iter()
                .map(|p| match p {
                    ObjectNamePart::Identifier(id) => Ok(id.clone()),
                    _ => refuse(format!("the table name {name}")),
                })
                .collect::<Result<_>>()?;
            let from = cx.from();
            let rel = cx.t.catalog.find(from, &parts).cloned().ok_or_else(|| {
                Refusal(format!(
                    "{name}, which is no table or translated view of the archive"
                ))
            })?;
            cx.reads.push(rel.name.clone());
            let target = target_relation(cx.t.to, &rel.name);
            let scope_rel = match alias {
                Some(a) => {
                    if !a.columns.is_empty() {
                        return refuse("a table alias with column names");
                    }
                    ScopeRel {
                        name: a.name.value.clone(),
                        schema: None,
                        target: quote(&a.name.value),
                        columns: rel.columns.clone(),
                    }
                }
                None => ScopeRel {
                    name: rel.name.name.clone(),
                    schema: rel.name.schema.clone(),
                    target: target.clone(),
                    columns: rel.columns.clone(),
                },
            };
            add_to_scope(cx, scope_rel)?;
            Ok(match alias {
                Some(a) => format!("{target} AS {}", quote(&a.name.value)),
                None => target,
            })
        }
        TableFactor::Derived {
            lateral: false,
            subquery,
            alias: Some(alias),
        } => {
            if !alias.columns.is_empty() {
                return refuse("a subquery alias with column names");
            }
            // A FROM subquery sees no other relation of its FROM.
            let outer = std::mem::take(&mut cx.scopes);
            let r = cx.subquery(subquery);
            cx.scopes = outer;
            let (sql, columns) = r?;
            named_for_mssql(cx, &columns)?;
            add_to_scope(
                cx,
                ScopeRel {
                    name: alias.name.value.clone(),
                    schema: None,
                    target: quote(&alias.name.value),
                    columns,
                },
            )?;
            Ok(format!("({sql}) AS {}", quote(&alias.name.value)))
        }
        TableFactor::Derived { alias: None, .. } => refuse("a subquery in FROM without an alias"),
        // PostgreSQL's pg_get_viewdef writes `FROM (a JOIN b ON …)`; both
        // dialects read a parenthesised join, whose relations stay visible
        // to the rest of the query.
        TableFactor::NestedJoin {
            table_with_joins: inner,
            alias: None,
        } => Ok(format!("({})", table_with_joins(cx, inner)?)),
        TableFactor::NestedJoin { alias: Some(_), .. } => {
            refuse("a parenthesised join with an alias")
        }
        _ => refuse("a FROM item other than a table, view or aliased subquery"),
    }
}

fn add_to_scope(cx: &mut Ctx<'_, '_>, r: ScopeRel) -> Result<()> {
    let scope = cx.scopes.last_mut().expect("a select pushed its scope");
    if scope.iter().any(|s| s.name.eq_ignore_ascii_case(&r.name)) {
        return refuse(format!("two relations in one FROM named {}", r.name));
    }
    scope.push(r);
    Ok(())
}

/// ORDER BY terms: an output column by position or name, or (not after a
/// UNION) an expression of the FROM.
fn order_terms(
    cx: &mut Ctx<'_, '_>,
    order: &OrderBy,
    proj: &[Projected],
    outputs_only: bool,
) -> Result<String> {
    let OrderByKind::Expressions(terms) = &order.kind else {
        return refuse("ORDER BY ALL");
    };
    if order.interpolate.is_some() {
        return refuse("ORDER BY … INTERPOLATE");
    }
    let from = cx.from();
    let mut out = Vec::new();
    for term in terms {
        if term.with_fill.is_some() {
            return refuse("ORDER BY … WITH FILL");
        }
        let by_output =
            match &term.expr {
                Expr::Value(v) => match &v.value {
                    Value::Number(n, _) => {
                        let i: usize = n.parse().map_err(|_| Refusal(format!("ORDER BY {n}")))?;
                        Some(proj.get(i.wrapping_sub(1)).ok_or_else(|| {
                            Refusal(format!("ORDER BY {n}, past the last column"))
                        })?)
                    }
                    _ => None,
                },
                Expr::Identifier(id) => proj.iter().find(|p| same(from, id, &p.name)),
                _ => None,
            };
        let (sql, kind) = match by_output {
            Some(p) => (p.sql.clone(), p.kind),
            None if outputs_only => {
                return refuse(format!(
                    "ORDER BY {} after a set operation (only output columns)",
                    short(&term.expr)
                ))
            }
            None => {
                let v = cx.value(&term.expr)?;
                if v.kind == Kind::Text && from == Dialect::Mssql {
                    return refuse("ORDER BY text (SQL Server sorts it by the column's collation)");
                }
                if v.kind == Kind::Text && from == Dialect::Postgres && !v.bytewise {
                    return refuse(
                        "ORDER BY text under the database's collation (SQLite sorts bytes)",
                    );
                }
                (v.sql, v.kind)
            }
        };
        let sql = match kind {
            Kind::Text if from == Dialect::Mssql || cx.to_mssql() => {
                return refuse("ORDER BY text (SQL Server sorts it by the column's collation)")
            }
            Kind::Text if cx.to_pg() => format!("({sql}) COLLATE \"C\""),
            Kind::Text if by_output.is_some() && from == Dialect::Postgres => {
                return refuse("ORDER BY text under the database's collation (SQLite sorts bytes)")
            }
            Kind::Temporal => return refuse("ORDER BY a date/time value (SQLite sorts its text)"),
            Kind::Other | Kind::Uuid => return refuse("ORDER BY a value of another type"),
            Kind::Decimal
                if (from == Dialect::Postgres && !cx.to_mssql())
                    || (from == Dialect::Mssql && !cx.to_pg()) =>
            {
                return refuse("ORDER BY a numeric value (text in SQLite)")
            }
            _ => sql,
        };
        let asc = term.options.asc.unwrap_or(true);
        // SQLite sorts NULL as the smallest value, PostgreSQL as the largest.
        let nulls_first = term.options.nulls_first.unwrap_or(match from {
            // SQLite and SQL Server sort NULL first.
            Dialect::Sqlite | Dialect::Mssql => asc,
            Dialect::Postgres => !asc,
        });
        let dir = if asc { "ASC" } else { "DESC" };
        if cx.to_mssql() {
            // T-SQL has no NULLS FIRST/LAST: NULL sorts first ascending and
            // last descending, else a term before puts them in place.
            if nulls_first != asc {
                let (null, other) = if nulls_first { (0, 1) } else { (1, 0) };
                out.push(format!(
                    "(CASE WHEN {sql} IS NULL THEN {null} ELSE {other} END) ASC"
                ));
            }
            out.push(format!("{sql} {dir}"));
            continue;
        }
        out.push(format!(
            "{sql} {dir} NULLS {}",
            if nulls_first { "FIRST" } else { "LAST" }
        ));
    }
    Ok(out.join(", "))
}

fn limit_clause(cx: &mut Ctx<'_, '_>, limit: &LimitClause, ordered: bool) -> Result<String> {
    let (limit, offset) = match limit {
        LimitClause::LimitOffset {
            limit,
            offset,
            limit_by,
        } => {
            if !limit_by.is_empty() {
                return refuse("LIMIT BY");
            }
            (limit.as_ref(), offset.as_ref().map(|o| &o.value))
        }
        LimitClause::OffsetCommaLimit { offset, limit } => (Some(limit), Some(offset)),
    };
    let count = |e: &Expr, what: &str| -> Result<i64> {
        let v = cx_literal(e);
        match v {
            Some(n) if n >= 0 => Ok(n),
            _ => refuse(format!(
                "{what} {} (only a literal of 0 or more means the same in both)",
                short(e)
            )),
        }
    };
    if cx.to_mssql() {
        // T-SQL's OFFSET … FETCH, which needs an ORDER BY and a count of
        // at least one.
        if !ordered {
            return refuse("LIMIT/OFFSET without ORDER BY (which rows is each engine's choice)");
        }
        let mut sql = format!(
            " OFFSET {} ROWS",
            offset.map(|o| count(o, "OFFSET")).transpose()?.unwrap_or(0)
        );
        if let Some(l) = limit {
            match count(l, "LIMIT")? {
                0 => return refuse("LIMIT 0 (SQL Server fetches at least one row)"),
                n => sql.push_str(&format!(" FETCH NEXT {n} ROWS ONLY")),
            }
        }
        return Ok(sql);
    }
    let mut sql = String::new();
    match limit {
        Some(l) => sql.push_str(&format!(" LIMIT {}", count(l, "LIMIT")?)),
        None if offset.is_some() && cx.t.to == Dialect::Sqlite => sql.push_str(" LIMIT -1"),
        None => {}
    }
    if let Some(o) = offset {
        sql.push_str(&format!(" OFFSET {}", count(o, "OFFSET")?));
    }
    Ok(sql)
}

/// Refuses, into SQL Server, a derived table or set operation with a
/// column computed without a name, which T-SQL requires.
fn named_for_mssql(cx: &Ctx<'_, '_>, columns: &[(String, Kind)]) -> Result<()> {
    match columns.iter().find(|(c, _)| c.starts_with(UNNAMED)) {
        Some((c, _)) if cx.to_mssql() => refuse(format!(
            "a subquery column computed without a name ({}; SQL Server requires one): give it \
             one with AS",
            &c[UNNAMED.len_utf8()..]
        )),
        _ => Ok(()),
    }
}

fn cx_literal(e: &Expr) -> Option<i64> {
    match e {
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) => n.parse().ok(),
            _ => None,
        },
        Expr::Nested(inner) => cx_literal(inner),
        _ => None,
    }
}
