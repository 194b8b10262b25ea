//! Expressions: each construct of the table, checked against the kinds of
//! its operands and written in the target's dialect.
//!
//! Every translated sub-expression is written in parentheses, so that the
//! target's operator precedence (which differs: SQLite's `||` binds tighter
//! than `*`, PostgreSQL's looser) can never regroup it.
//!
//! Function calls ([`functions`]) and subqueries ([`query`], which also
//! translates a view's whole query) are parts of an expression and recurse
//! into it, so they are this module's children, sharing its [`Ctx`].

pub(crate) mod functions;
pub(crate) mod query;

use sqlparser::ast::{
    BinaryOperator, CastKind, DataType, Expr, Ident, ObjectNamePart, UnaryOperator, Value,
};

use crate::kind::Kind;
use crate::names::{quote, same};
use crate::{refuse, Dialect, ExprRole, Refusal, Result, Translator};

/// A literal, kept so that a comparison or a default can write it as the
/// other operand's kind (SQLite compares a TEXT column with `0` as the text
/// `'0'`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Lit {
    Int(i64),
    Float(f64),
    Text(String),
}

/// A translated expression.
#[derive(Debug, Clone)]
pub(crate) struct Out {
    pub sql: String,
    pub kind: Kind,
    pub lit: Option<Lit>,
    /// Text compared under byte order (PostgreSQL source: `COLLATE "C"`).
    pub bytewise: bool,
    /// The column's name in the catalog, when the expression is a column.
    pub name: Option<String>,
}

impl Out {
    pub(crate) fn new(sql: String, kind: Kind) -> Out {
        Out {
            sql,
            kind,
            lit: None,
            bytewise: false,
            name: None,
        }
    }
}

/// One relation in a FROM clause, as expressions refer to it.
#[derive(Debug, Clone)]
pub(crate) struct ScopeRel {
    /// The alias, or the relation's own name, as columns are qualified by.
    pub name: String,
    /// Whether `name` is an alias (matched as written) or a table's name.
    pub schema: Option<String>,
    /// How the target refers to it (`"o"` or `"public"."Orders"`).
    pub target: String,
    pub columns: Vec<(String, Kind)>,
}

/// The state of one translation: the FROM scopes (innermost last) and what
/// aggregate checking needs.
pub(crate) struct Ctx<'t, 'a> {
    pub t: &'t Translator<'a>,
    pub scopes: Vec<Vec<ScopeRel>>,
    /// Write column references qualified by their relation (views) or bare
    /// (a table's own expressions).
    pub qualify: bool,
    /// Inside an aggregate's argument.
    pub in_aggregate: bool,
    /// Whether an aggregate was seen at this query level.
    pub saw_aggregate: bool,
    /// Column references outside aggregates at this query level, as
    /// written in the target.
    pub bare: Vec<String>,
    /// The relations read, as the catalog names them.
    pub reads: Vec<bru_core::TableName>,
}

impl<'t, 'a> Ctx<'t, 'a> {
    pub fn new(t: &'t Translator<'a>, qualify: bool) -> Self {
        Ctx {
            t,
            scopes: Vec::new(),
            qualify,
            in_aggregate: false,
            saw_aggregate: false,
            bare: Vec::new(),
            reads: Vec::new(),
        }
    }

    pub fn from(&self) -> Dialect {
        self.t.from
    }

    pub fn to_pg(&self) -> bool {
        self.t.to == Dialect::Postgres
    }

    /// Whether the target is SQL Server: it has no boolean values (a
    /// condition becomes a value through CASE, a bit column a condition
    /// through `= 1`), its string literals are `N'…'`, and it compares text
    /// by the column's collation (case-insensitive by default, trailing
    /// spaces ignored), so text equality is written on the texts' bytes and
    /// every other comparison of text is refused.
    pub fn to_mssql(&self) -> bool {
        self.t.to == Dialect::Mssql
    }

    /// A string literal in the target's dialect.
    pub fn text(&self, s: &str) -> String {
        if self.to_mssql() {
            format!("N{}", quote_text(s))
        } else {
            quote_text(s)
        }
    }

    /// The literal `true` or `false` as a value of the target.
    fn bool_lit(&self, b: bool) -> String {
        match (self.to_mssql(), b) {
            (true, true) => "CAST(1 AS bit)".into(),
            (true, false) => "CAST(0 AS bit)".into(),
            (false, true) => "true".into(),
            (false, false) => "false".into(),
        }
    }

    /// Whether the source is SQL Server, whose text comparisons follow the
    /// column's collation (case-insensitive by default, trailing spaces
    /// ignored) and whose `+` joins texts.
    pub fn mssql(&self) -> bool {
        self.t.from == Dialect::Mssql
    }

    /// Whether the source reads `1.5` as an exact decimal (PostgreSQL's
    /// numeric, SQL Server's decimal), not SQLite's double.
    pub fn exact_literals(&self) -> bool {
        self.t.from != Dialect::Sqlite
    }

    /// `e` as a value: a condition becomes PostgreSQL's 0/1 integer (what
    /// SQLite gives), or stays SQLite's 0/1 (what a PostgreSQL boolean
    /// becomes when restored).
    pub fn value(&mut self, e: &Expr) -> Result<Out> {
        let out = self.expr(e)?;
        if out.kind == Kind::Truth && self.to_mssql() {
            // A condition is no value in T-SQL: 1, 0 or NULL through CASE.
            let c = out.sql;
            let case = format!("(CASE WHEN {c} THEN 1 WHEN NOT ({c}) THEN 0 END)");
            return Ok(match self.from() {
                Dialect::Sqlite => Out::new(case, Kind::Int),
                _ => Out::new(format!("CAST({case} AS bit)"), Kind::Bool),
            });
        }
        Ok(match (out.kind, self.from()) {
            (Kind::Truth, Dialect::Sqlite) => {
                Out::new(format!("(CAST({} AS integer))", out.sql), Kind::Int)
            }
            (Kind::Truth, _) => Out::new(out.sql, Kind::Bool),
            _ => out,
        })
    }

    /// `e` as a condition (WHERE, ON, HAVING, CHECK, CASE WHEN, AND/OR).
    pub fn cond(&mut self, e: &Expr) -> Result<String> {
        let out = self.expr(e)?;
        match out.kind {
            // A bit is no condition in T-SQL.
            Kind::Bool if self.to_mssql() => Ok(format!("({} = 1)", out.sql)),
            Kind::Null if self.to_mssql() => Ok("(CAST(NULL AS int) = 1)".into()),
            Kind::Truth | Kind::Bool | Kind::Null => Ok(out.sql),
            // SQLite takes a non-zero number as true.
            Kind::Int | Kind::Float if self.from() == Dialect::Sqlite => {
                Ok(format!("({} <> 0)", out.sql))
            }
            k => refuse(format!("{} used as a condition ({})", k.noun(), short(e))),
        }
    }

    pub fn expr(&mut self, e: &Expr) -> Result<Out> {
        match e {
            Expr::Nested(inner) => {
                let mut out = self.expr(inner)?;
                out.sql = format!("({})", out.sql);
                Ok(out)
            }
            Expr::Value(v) => self.literal(&v.value),
            Expr::Identifier(id) => self.column(None, id),
            Expr::CompoundIdentifier(parts) => match parts.as_slice() {
                [rel, col] => self.column(Some((None, rel)), col),
                [schema, rel, col] => self.column(Some((Some(schema), rel)), col),
                _ => refuse(format!("the name {e}")),
            },
            Expr::IsNull(inner) => {
                let v = self.value(inner)?;
                Ok(Out::new(format!("({} IS NULL)", v.sql), Kind::Truth))
            }
            Expr::IsNotNull(inner) => {
                let v = self.value(inner)?;
                Ok(Out::new(format!("({} IS NOT NULL)", v.sql), Kind::Truth))
            }
            Expr::IsDistinctFrom(..) | Expr::IsNotDistinctFrom(..) if self.to_mssql() => {
                refuse("IS [NOT] DISTINCT FROM (SQL Server has it only from 2022 on)")
            }
            Expr::IsDistinctFrom(a, b) | Expr::IsNotDistinctFrom(a, b) => {
                let (a, b) = self.comparison_operands(a, b, false)?;
                let not = matches!(e, Expr::IsNotDistinctFrom(..));
                let op = match (self.to_pg(), not) {
                    (true, false) => "IS DISTINCT FROM",
                    (true, true) => "IS NOT DISTINCT FROM",
                    (false, false) => "IS NOT",
                    (false, true) => "IS",
                };
                Ok(Out::new(format!("({a} {op} {b})"), Kind::Truth))
            }
            Expr::UnaryOp { op, expr } => self.unary(op, expr),
            Expr::BinaryOp { left, op, right } => self.binary(left, op, right),
            Expr::Between {
                expr,
                negated,
                low,
                high,
            } => {
                let (a, lo) = self.comparison_operands(expr, low, true)?;
                let (_, hi) = self.comparison_operands(expr, high, true)?;
                Ok(Out::new(
                    format!(
                        "({a} {}BETWEEN {lo} AND {hi})",
                        if *negated { "NOT " } else { "" }
                    ),
                    Kind::Truth,
                ))
            }
            Expr::InList {
                expr,
                list,
                negated,
            } => {
                if list.is_empty() {
                    return refuse("IN with an empty list");
                }
                let mut items = Vec::new();
                let mut a_sql = String::new();
                for item in list {
                    let (a, b) = self.comparison_operands(expr, item, false)?;
                    a_sql = a;
                    items.push(b);
                }
                Ok(Out::new(
                    format!(
                        "({a_sql} {}IN ({}))",
                        if *negated { "NOT " } else { "" },
                        items.join(", ")
                    ),
                    Kind::Truth,
                ))
            }
            Expr::InSubquery {
                expr,
                subquery,
                negated,
            } => {
                let a = self.value(expr)?;
                let (sql, columns) = self.subquery(subquery)?;
                let [(_, k)] = columns.as_slice() else {
                    return refuse("IN with a subquery of more than one column");
                };
                let sub = Out::new(String::new(), *k);
                self.check_comparison(&a, &sub, false)?;
                if self.to_mssql() && a.kind == Kind::Text {
                    return refuse(
                        "IN with a subquery of text (SQL Server compares text by the column's \
                         collation)",
                    );
                }
                Ok(Out::new(
                    format!(
                        "({} {}IN ({sql}))",
                        a.sql,
                        if *negated { "NOT " } else { "" }
                    ),
                    Kind::Truth,
                ))
            }
            Expr::Exists { subquery, negated } => {
                let (sql, _) = self.subquery(subquery)?;
                Ok(Out::new(
                    format!("({}EXISTS ({sql}))", if *negated { "NOT " } else { "" }),
                    Kind::Truth,
                ))
            }
            Expr::Subquery(q) => {
                let (sql, columns) = self.subquery(q)?;
                let [(_, k)] = columns.as_slice() else {
                    return refuse("a scalar subquery of more than one column");
                };
                Ok(Out::new(format!("({sql})"), *k))
            }
            Expr::Case {
                operand,
                conditions,
                else_result,
                ..
            } => self.case(operand.as_deref(), conditions, else_result.as_deref()),
            Expr::Cast {
                kind,
                expr,
                data_type,
                format: None,
            } => self.cast(kind, expr, data_type),
            Expr::Collate { expr, collation } => self.collate(expr, collation),
            Expr::Function(f) => functions::call(self, f),
            Expr::Like { .. } | Expr::ILike { .. } => refuse(
                "LIKE (SQLite's ignores ASCII case and has no escape character; \
                 PostgreSQL's is case-sensitive and escapes with \\)",
            ),
            Expr::SimilarTo { .. } => refuse("SIMILAR TO"),
            Expr::RLike { .. } => refuse("REGEXP"),
            Expr::TypedString(_) => refuse(format!("the typed literal {e}")),
            Expr::Interval(_) => refuse(format!("the interval {e}")),
            Expr::Extract { .. } => refuse("EXTRACT"),
            // substr(t, s, n), as sqlparser reads it.
            Expr::Substring {
                expr,
                substring_from: Some(start),
                substring_for,
                special: true,
                ..
            } => {
                let mut args: Vec<&Expr> = vec![expr, start];
                args.extend(substring_for.as_deref());
                functions::scalar(self, "substr", &args)
            }
            Expr::Substring { .. } => refuse("SUBSTRING(... FROM ...)"),
            // trim(t) and trim(t, chars), as sqlparser reads them.
            Expr::Trim {
                expr,
                trim_where: None,
                trim_what: None,
                trim_characters,
            } => {
                let mut args: Vec<&Expr> = vec![expr];
                match trim_characters.as_deref() {
                    None => {}
                    Some([chars]) => args.push(chars),
                    Some(_) => return refuse("trim(…) with more than two arguments"),
                }
                functions::scalar(self, "trim", &args)
            }
            Expr::Trim { .. } => refuse("TRIM(... FROM ...)"),
            Expr::Position { .. } => refuse("POSITION"),
            Expr::AtTimeZone { .. } => refuse("AT TIME ZONE"),
            Expr::AnyOp { .. } | Expr::AllOp { .. } => refuse("ANY/ALL"),
            Expr::Tuple(_) => refuse("a row value (a, b)"),
            _ => refuse(format!("the syntax of {}", short(e))),
        }
    }

    fn literal(&mut self, v: &Value) -> Result<Out> {
        let pg_source = self.from() == Dialect::Postgres;
        match v {
            Value::Null => Ok(Out::new("NULL".into(), Kind::Null)),
            Value::Number(s, false) => {
                if let Ok(n) = s.parse::<i64>() {
                    // T-SQL reads an integer literal past 32 bits as a
                    // decimal.
                    let sql = if self.to_mssql() && i32::try_from(n).is_err() {
                        format!("CAST({n} AS bigint)")
                    } else {
                        n.to_string()
                    };
                    return Ok(Out {
                        lit: Some(Lit::Int(n)),
                        ..Out::new(sql, Kind::Int)
                    });
                }
                let exponent = s.contains(['e', 'E']);
                if self.mssql() && !exponent {
                    // SQL Server's 1.5 is decimal(2,1), computed exactly.
                    return Ok(Out::new(s.clone(), Kind::Decimal));
                }
                if pg_source {
                    // PostgreSQL's 1.5 is numeric, computed exactly.
                    return Ok(Out::new(s.clone(), Kind::Decimal));
                }
                let f: f64 = s.parse().map_err(|_| Refusal(format!("the number {s}")))?;
                if !f.is_finite() {
                    return refuse(format!("the number {s}, out of range"));
                }
                Ok(Out {
                    lit: Some(Lit::Float(f)),
                    ..Out::new(float_literal(self.t.to, s), Kind::Float)
                })
            }
            Value::SingleQuotedString(s) => Ok(Out {
                lit: Some(Lit::Text(s.clone())),
                ..Out::new(self.text(s), Kind::Text)
            }),
            // SQL Server's N'…', its Unicode text.
            Value::NationalStringLiteral(s) if self.mssql() => Ok(Out {
                lit: Some(Lit::Text(s.clone())),
                ..Out::new(self.text(s), Kind::Text)
            }),
            Value::Boolean(b) if pg_source && self.to_mssql() => {
                Ok(Out::new(self.bool_lit(*b), Kind::Bool))
            }
            Value::Boolean(b) if pg_source => {
                Ok(Out::new(if *b { "1" } else { "0" }.into(), Kind::Bool))
            }
            // SQLite's TRUE and FALSE are the integers 1 and 0.
            Value::Boolean(b) => Ok(Out {
                lit: Some(Lit::Int(*b as i64)),
                ..Out::new(if *b { "1" } else { "0" }.into(), Kind::Int)
            }),
            Value::DoubleQuotedString(s) => refuse(format!(
                "the double-quoted \"{s}\", which names nothing in the archive (SQLite would \
                 take it as a string)"
            )),
            other => refuse(format!("the literal {other}")),
        }
    }

    /// A column reference: `qualifier` is `[schema.]relation` when given.
    fn column(&mut self, qualifier: Option<(Option<&Ident>, &Ident)>, col: &Ident) -> Result<Out> {
        let from = self.from();
        for scope in self.scopes.iter().rev() {
            let candidates: Vec<&ScopeRel> = scope
                .iter()
                .filter(|r| match qualifier {
                    None => true,
                    Some((schema, rel)) => {
                        same(from, rel, &r.name)
                            && schema.is_none_or(|s| {
                                r.schema.as_deref().is_some_and(|rs| same(from, s, rs))
                                    || (from == Dialect::Sqlite && same(from, s, "main"))
                            })
                    }
                })
                .collect();
            let mut hits = Vec::new();
            for r in &candidates {
                for (name, kind) in &r.columns {
                    if same(from, col, name) {
                        hits.push((*r, name, *kind));
                    }
                }
            }
            match hits.as_slice() {
                [] if qualifier.is_some() && !candidates.is_empty() => {
                    return refuse(format!(
                        "the column {col}, which {} does not have",
                        candidates[0].name
                    ))
                }
                [] => continue,
                [(r, name, kind)] => {
                    let sql = if self.qualify {
                        format!("{}.{}", r.target, quote(name))
                    } else {
                        quote(name)
                    };
                    if !self.in_aggregate {
                        self.bare.push(sql.clone());
                    }
                    return Ok(Out {
                        name: Some((*name).clone()),
                        ..Out::new(sql, *kind)
                    });
                }
                _ => return refuse(format!("the column name {col}, which is ambiguous")),
            }
        }
        match qualifier {
            Some((_, rel)) => refuse(format!(
                "the name {rel}.{col}, which names no column in reach"
            )),
            None => refuse(format!("the name {col}, which names no column in reach")),
        }
    }

    fn unary(&mut self, op: &UnaryOperator, e: &Expr) -> Result<Out> {
        match op {
            UnaryOperator::Not => {
                let c = self.cond(e)?;
                Ok(Out::new(format!("(NOT {c})"), Kind::Truth))
            }
            UnaryOperator::Minus | UnaryOperator::Plus => {
                let v = self.value(e)?;
                if !(v.kind.is_number() || v.kind == Kind::Null) {
                    return refuse(format!("unary {op} on {}", v.kind.noun()));
                }
                if v.kind == Kind::Decimal && self.exact_literals() {
                    return refuse(decimal_refusal(self.from(), self.t.to));
                }
                let lit = match (&v.lit, op) {
                    (Some(Lit::Int(n)), UnaryOperator::Minus) => n.checked_neg().map(Lit::Int),
                    (Some(Lit::Float(f)), UnaryOperator::Minus) => Some(Lit::Float(-f)),
                    (l, _) => l.clone(),
                };
                Ok(Out {
                    lit,
                    ..Out::new(format!("({op}{})", v.sql), v.kind)
                })
            }
            _ => refuse(format!("the operator {op}")),
        }
    }

    fn binary(&mut self, left: &Expr, op: &BinaryOperator, right: &Expr) -> Result<Out> {
        use BinaryOperator as B;
        match op {
            B::And | B::Or => {
                let a = self.cond(left)?;
                let b = self.cond(right)?;
                Ok(Out::new(format!("({a} {op} {b})"), Kind::Truth))
            }
            B::Eq | B::NotEq | B::Lt | B::LtEq | B::Gt | B::GtEq => {
                let ordering = !matches!(op, B::Eq | B::NotEq);
                let (a, b) = self.comparison_operands(left, right, ordering)?;
                let op = if matches!(op, B::NotEq) {
                    "<>"
                } else {
                    &op.to_string()
                };
                Ok(Out::new(format!("({a} {op} {b})"), Kind::Truth))
            }
            B::Plus | B::Minus | B::Multiply | B::Divide | B::Modulo => {
                self.arithmetic(left, op, right)
            }
            B::StringConcat => self.concat(left, right),
            other => refuse(format!("the operator {other}")),
        }
    }

    /// Both operands of a comparison, written so that the target compares
    /// them as the source does.
    pub fn comparison_operands(
        &mut self,
        left: &Expr,
        right: &Expr,
        ordering: bool,
    ) -> Result<(String, String)> {
        let mut a = self.value(left)?;
        let mut b = self.value(right)?;
        self.coerce_literal(&a, &mut b)?;
        self.coerce_literal(&b, &mut a)?;
        self.check_comparison(&a, &b, ordering)?;
        if ordering && a.kind == Kind::Text && self.to_pg() {
            // SQLite's BINARY collation is byte order, PostgreSQL's "C".
            a.sql = format!("({} COLLATE \"C\")", a.sql);
        }
        if self.to_mssql() && a.kind == Kind::Text && b.kind == Kind::Text {
            // SQL Server compares text by the column's collation and pads
            // the shorter with spaces; the texts' UTF-16 bytes, with a byte
            // after them that no padding gives, are equal only when the
            // texts are (binary values are compared padded with zeros).
            a.sql = text_bytes(&a.sql);
            b.sql = text_bytes(&b.sql);
        }
        Ok((a.sql, b.sql))
    }

    /// A literal compared with a column of another kind, written as SQLite
    /// itself converts it: an integer compared with TEXT becomes its text,
    /// 0 and 1 compared with a boolean become false and true.
    fn coerce_literal(&self, column: &Out, lit: &mut Out) -> Result<()> {
        if column.lit.is_some() {
            return Ok(());
        }
        if self.mssql() {
            // A bit column compared with 0 or 1.
            if let (Kind::Bool, Some(Lit::Int(n @ (0 | 1)))) = (column.kind, &lit.lit) {
                lit.sql = match (self.to_pg(), *n == 1) {
                    (true, true) => "true",
                    (true, false) => "false",
                    (false, true) => "1",
                    (false, false) => "0",
                }
                .into();
                lit.kind = Kind::Bool;
            }
            return Ok(());
        }
        if self.from() != Dialect::Sqlite {
            return Ok(());
        }
        match (column.kind, &lit.lit) {
            (Kind::Text, Some(Lit::Int(n))) => {
                lit.sql = self.text(&n.to_string());
                lit.kind = Kind::Text;
            }
            (Kind::Bool, Some(Lit::Int(n @ (0 | 1)))) => {
                lit.sql = self.bool_lit(*n == 1);
                lit.kind = Kind::Bool;
            }
            _ => {}
        }
        Ok(())
    }

    pub fn check_comparison(&self, a: &Out, b: &Out, ordering: bool) -> Result<()> {
        let pg_source = self.from() == Dialect::Postgres;
        match (a.kind, b.kind) {
            (Kind::Null, _) | (_, Kind::Null) => Ok(()),
            (Kind::Temporal, _) | (_, Kind::Temporal) => refuse(
                "a comparison of date/time values (SQLite compares their text, PostgreSQL the \
                 instants)",
            ),
            // PostgreSQL's numeric and SQL Server's decimal compare exactly.
            (Kind::Decimal, _) | (_, Kind::Decimal)
                if (pg_source && !self.to_mssql()) || (self.mssql() && !self.to_pg()) =>
            {
                refuse(decimal_refusal(self.from(), self.t.to))
            }
            (x, y) if x.is_number() && y.is_number() => Ok(()),
            (Kind::Text, Kind::Text) if ordering && self.to_mssql() => refuse(
                "an ordering comparison of text (SQL Server orders text by the column's \
                 collation, case-insensitive by default)",
            ),
            (Kind::Text, Kind::Text) if self.mssql() => refuse(
                "a comparison of text under SQL Server's collation (case-insensitive by \
                     default, trailing spaces ignored)",
            ),
            (Kind::Text, Kind::Text) => {
                if ordering && pg_source && !(a.bytewise || b.bytewise) {
                    refuse(
                        "an ordering comparison of text under the database's collation (SQLite \
                         compares bytes; write COLLATE \"C\")",
                    )
                } else {
                    Ok(())
                }
            }
            (Kind::Bool, Kind::Bool) if !ordering => Ok(()),
            (x, y) => refuse(format!(
                "a comparison of {} with {} (the engines convert them differently)",
                x.noun(),
                y.noun()
            )),
        }
    }

    fn arithmetic(&mut self, left: &Expr, op: &BinaryOperator, right: &Expr) -> Result<Out> {
        let a = self.value(left)?;
        let b = self.value(right)?;
        let from = self.from();
        if from == Dialect::Mssql
            && matches!(op, BinaryOperator::Plus)
            && (a.kind == Kind::Text || b.kind == Kind::Text)
        {
            // SQL Server's + on texts joins them (NULL when either is, under
            // its default CONCAT_NULL_YIELDS_NULL), as || does; on a text
            // and a number it converts the text to the number.
            return match (a.kind, b.kind) {
                (Kind::Text | Kind::Null, Kind::Text | Kind::Null) => {
                    Ok(Out::new(format!("({} || {})", a.sql, b.sql), Kind::Text))
                }
                _ => refuse("`+` on text and a number (SQL Server converts the text to a number)"),
            };
        }
        for v in [&a, &b] {
            match v.kind {
                Kind::Int | Kind::Float | Kind::Null => {}
                Kind::Decimal => return refuse(decimal_refusal(from, self.t.to)),
                Kind::Text if from == Dialect::Sqlite => {
                    return refuse(format!(
                        "`{op}` on text (SQLite computes with the text's numeric value)"
                    ))
                }
                k => return refuse(format!("`{op}` on {}", k.noun())),
            }
        }
        let kind = match (a.kind, b.kind) {
            (Kind::Null, Kind::Null) => Kind::Null,
            (Kind::Int, Kind::Int) | (Kind::Int, Kind::Null) | (Kind::Null, Kind::Int) => Kind::Int,
            _ => Kind::Float,
        };
        if matches!(op, BinaryOperator::Modulo) && kind == Kind::Float {
            return refuse("`%` on floating-point values (SQLite takes their integer parts)");
        }
        // PostgreSQL reads an integer literal as a 32-bit integer, whose
        // arithmetic fails past 2^31 where SQLite's 64 bits go on: as
        // operands they are made bigint.
        let (a, b) = if self.to_pg() || self.to_mssql() {
            (bigint_literal(a), bigint_literal(b))
        } else {
            (a, b)
        };
        let divides = matches!(op, BinaryOperator::Divide | BinaryOperator::Modulo);
        if !divides {
            return Ok(Out::new(format!("({} {op} {})", a.sql, b.sql), kind));
        }
        if from == Dialect::Sqlite {
            // SQLite gives NULL for a zero divisor, PostgreSQL fails.
            return Ok(Out::new(
                format!("({} {op} NULLIF({}, 0))", a.sql, b.sql),
                kind,
            ));
        }
        if (from == Dialect::Mssql && self.to_pg())
            || (from == Dialect::Postgres && self.to_mssql())
        {
            // Both fail on a zero divisor and truncate integers toward zero;
            // % takes the dividend's sign in both.
            return Ok(Out::new(format!("({} {op} {})", a.sql, b.sql), kind));
        }
        match b.lit {
            Some(Lit::Int(n)) if n != 0 => {}
            Some(Lit::Float(f)) if f != 0.0 => {}
            _ => {
                return refuse(format!(
                    "`{op}` by a value that may be zero ({} fails, SQLite gives NULL)",
                    from.display_name()
                ))
            }
        }
        Ok(Out::new(format!("({} {op} {})", a.sql, b.sql), kind))
    }

    fn concat(&mut self, left: &Expr, right: &Expr) -> Result<Out> {
        let a = self.value(left)?;
        let b = self.value(right)?;
        let mut parts = Vec::new();
        for v in [a, b] {
            match v.kind {
                Kind::Text | Kind::Null => parts.push(v.sql),
                Kind::Int if self.to_pg() => parts.push(format!("CAST({} AS text)", v.sql)),
                Kind::Int if self.to_mssql() => {
                    parts.push(format!("CAST({} AS nvarchar(max))", v.sql))
                }
                Kind::Int => parts.push(v.sql),
                k => {
                    return refuse(format!(
                        "`||` on {} (the engines write it as text differently)",
                        k.noun()
                    ))
                }
            }
        }
        // T-SQL's + joins texts, NULL when either is (its
        // CONCAT_NULL_YIELDS_NULL, on in every session since SQL Server
        // 2005 unless a session turns it off).
        let op = if self.to_mssql() { "+" } else { "||" };
        Ok(Out::new(
            format!("({} {op} {})", parts[0], parts[1]),
            Kind::Text,
        ))
    }

    fn case(
        &mut self,
        operand: Option<&Expr>,
        conditions: &[sqlparser::ast::CaseWhen],
        else_result: Option<&Expr>,
    ) -> Result<Out> {
        let mut sql = String::from("(CASE");
        // Into SQL Server, `CASE x WHEN y` is written `CASE WHEN x = y`,
        // which compares text exactly (see comparison_operands).
        let searched = self.to_mssql();
        if let Some(op) = operand.filter(|_| !searched) {
            let v = self.value(op)?;
            sql.push_str(&format!(" {}", v.sql));
        }
        let mut kind = Kind::Null;
        for w in conditions {
            let cond = match operand {
                Some(op) if searched => {
                    let (a, b) = self.comparison_operands(op, &w.condition, false)?;
                    format!("({a} = {b})")
                }
                Some(op) => self.comparison_operands(op, &w.condition, false)?.1,
                None => self.cond(&w.condition)?,
            };
            let r = self.value(&w.result)?;
            kind = kind
                .unify(r.kind)
                .ok_or_else(|| Refusal(mixed("CASE", kind, r.kind)))?;
            sql.push_str(&format!(" WHEN {cond} THEN {}", r.sql));
        }
        if let Some(e) = else_result {
            let r = self.value(e)?;
            kind = kind
                .unify(r.kind)
                .ok_or_else(|| Refusal(mixed("CASE", kind, r.kind)))?;
            sql.push_str(&format!(" ELSE {}", r.sql));
        }
        sql.push_str(" END)");
        Ok(Out::new(sql, kind))
    }

    fn cast(&mut self, kind: &CastKind, e: &Expr, ty: &DataType) -> Result<Out> {
        if !matches!(kind, CastKind::Cast | CastKind::DoubleColon) {
            return refuse(format!("{kind:?} casts"));
        }
        let v = self.value(e)?;
        let unconstrained_numeric = matches!(
            ty.to_string().to_ascii_lowercase().as_str(),
            "numeric" | "decimal"
        );
        if self.from() == Dialect::Postgres && self.to_mssql() && unconstrained_numeric {
            // pg_get_expr writes `(0)::numeric` for a numeric column's
            // literal: T-SQL reads the number itself as an exact decimal.
            match (&v.lit, v.kind) {
                (Some(Lit::Int(n)), _) => {
                    let sql = if *n < 0 {
                        format!("({n})")
                    } else {
                        n.to_string()
                    };
                    return Ok(Out::new(sql, Kind::Decimal));
                }
                (None, Kind::Decimal) if exact_double(&v.sql).is_some() => return Ok(v),
                _ => {}
            }
        }
        let target =
            cast_target(self.from(), ty).ok_or_else(|| Refusal(format!("a cast to {ty}")))?;
        let to_pg = self.to_pg();
        let pg_source = self.from() == Dialect::Postgres;
        match (v.kind, target) {
            // The cast changes nothing.
            (k, t) if k == t || k == Kind::Null => {
                // PostgreSQL's '1.5'::double precision or 2::float8: a
                // float literal SQLite reads as the same double.
                Ok(Out {
                    sql: if to_pg {
                        format!("CAST({} AS {})", v.sql, pg_type(t))
                    } else if self.to_mssql() && k != Kind::Null {
                        format!("CAST({} AS {})", v.sql, tsql_type(t))
                    } else {
                        v.sql
                    },
                    ..v
                })
            }
            (Kind::Decimal, Kind::Float) if pg_source => match exact_double(&v.sql) {
                // A numeric literal made a double (pg_get_viewdef writes
                // `(1.25)::double precision`): SQLite reads its text as the
                // same double.
                Some((text, f)) => Ok(Out {
                    lit: Some(Lit::Float(f)),
                    ..Out::new(float_literal(self.t.to, text), Kind::Float)
                }),
                None => refuse(format!("a cast of {} to {ty}", v.kind.noun())),
            },
            // pg_get_viewdef writes a negative integer literal as
            // '-3'::integer: the integer itself, when the type holds it
            // (PostgreSQL fails otherwise).
            (Kind::Text, Kind::Int) if pg_source => match (&v.lit, int_range(ty)) {
                (Some(Lit::Text(t)), Some((lo, hi))) => match t.parse::<i64>() {
                    Ok(n) if (lo..=hi).contains(&n) => Ok(Out {
                        lit: Some(Lit::Int(n)),
                        ..Out::new(
                            if n < 0 {
                                format!("({n})")
                            } else {
                                n.to_string()
                            },
                            Kind::Int,
                        )
                    }),
                    _ => refuse(format!("a cast of the text '{t}' to {ty}")),
                },
                _ => refuse(format!("a cast of text to {ty}")),
            },
            (Kind::Int, Kind::Float) if to_pg => Ok(Out::new(
                format!("CAST({} AS double precision)", v.sql),
                Kind::Float,
            )),
            (Kind::Int, Kind::Float | Kind::Text) if self.to_mssql() => Ok(Out::new(
                format!("CAST({} AS {})", v.sql, tsql_type(target)),
                target,
            )),
            (Kind::Int, Kind::Float) => {
                Ok(Out::new(format!("CAST({} AS REAL)", v.sql), Kind::Float))
            }
            (Kind::Int, Kind::Text) if to_pg => {
                Ok(Out::new(format!("CAST({} AS text)", v.sql), Kind::Text))
            }
            (Kind::Int, Kind::Text) => Ok(Out::new(format!("CAST({} AS TEXT)", v.sql), Kind::Text)),
            (k, _) => refuse(format!("a cast of {} to {ty}", k.noun())),
        }
    }

    fn collate(&mut self, e: &Expr, collation: &sqlparser::ast::ObjectName) -> Result<Out> {
        let name = match collation.0.as_slice() {
            [ObjectNamePart::Identifier(id)] => id.value.clone(),
            _ => return refuse(format!("the collation {collation}")),
        };
        let mut v = self.value(e)?;
        if v.kind != Kind::Text {
            return refuse(format!("COLLATE on {}", v.kind.noun()));
        }
        match (self.from(), name.as_str()) {
            // SQL Server compares text only for equality, on its bytes.
            (Dialect::Sqlite, n) if n.eq_ignore_ascii_case("binary") && self.to_mssql() => {
                v.bytewise = true;
                Ok(v)
            }
            (Dialect::Sqlite, n) if n.eq_ignore_ascii_case("binary") => {
                v.sql = format!("({} COLLATE \"C\")", v.sql);
                Ok(v)
            }
            (Dialect::Postgres, "C" | "POSIX") => {
                // SQLite's default BINARY collation is byte order.
                v.bytewise = true;
                Ok(v)
            }
            _ => refuse(format!("the collation {name}")),
        }
    }

    /// A subquery in an expression, in a scope of its own that sees the
    /// enclosing ones.
    pub fn subquery(&mut self, q: &sqlparser::ast::Query) -> Result<(String, Vec<(String, Kind)>)> {
        let saved = (
            self.in_aggregate,
            self.saw_aggregate,
            std::mem::take(&mut self.bare),
        );
        self.in_aggregate = false;
        self.saw_aggregate = false;
        let out = query::query(self, q);
        self.in_aggregate = saved.0;
        self.saw_aggregate = saved.1;
        self.bare = saved.2;
        out
    }
}

/// A table's own expression (CHECK, default, index expression, predicate).
pub(crate) fn table_expression(
    t: &Translator<'_>,
    table: &bru_core::TableName,
    role: ExprRole<'_>,
    e: &Expr,
) -> Result<String> {
    let relation = t
        .catalog
        .find(
            Dialect::Postgres,
            &[Ident::with_quote('"', table.name.clone())],
        )
        .cloned()
        .or_else(|| {
            let mut parts = Vec::new();
            if let Some(s) = &table.schema {
                parts.push(Ident::with_quote('"', s.clone()));
            }
            parts.push(Ident::with_quote('"', table.name.clone()));
            t.catalog.find(Dialect::Postgres, &parts).cloned()
        })
        .ok_or_else(|| Refusal(format!("table {table} is not in the catalog")))?;
    let mut cx = Ctx::new(t, false);
    if let ExprRole::Default(column) = role {
        // A default refers to no column.
        let Some((_, kind)) = relation.columns.iter().find(|(c, _)| c == column) else {
            return refuse(format!("table {table} has no column {column}"));
        };
        cx.scopes.push(Vec::new());
        return default(&mut cx, *kind, e);
    }
    cx.scopes.push(vec![ScopeRel {
        name: table.name.clone(),
        schema: table.schema.clone(),
        target: crate::names::target_relation(t.to, table),
        columns: relation.columns.clone(),
    }]);
    match role {
        ExprRole::IndexExpr if t.to == Dialect::Mssql => refuse(
            "an index on an expression (SQL Server indexes columns; a computed column would be \
             needed)",
        ),
        ExprRole::Predicate if t.to == Dialect::Mssql => {
            filter_shape(cx.from(), e)?;
            cx.cond(e)
        }
        ExprRole::Check | ExprRole::Predicate => cx.cond(e),
        // The target stores the expression's value in the column's type,
        // converting it as that engine converts (SQLite keeps 2.5 in an
        // INTEGER column, PostgreSQL rounds it): only a value of the
        // column's own kind.
        ExprRole::Generated(column) => {
            let Some((_, kind)) = relation.columns.iter().find(|(c, _)| c == column) else {
                return refuse(format!("table {table} has no column {column}"));
            };
            let v = cx.value(e)?;
            if v.kind != *kind || !matches!(kind, Kind::Int | Kind::Float | Kind::Text) {
                return refuse(format!(
                    "a generated value of {} for a column of {}",
                    v.kind.noun(),
                    kind.noun()
                ));
            }
            Ok(v.sql)
        }
        _ => {
            let v = cx.value(e)?;
            if v.kind == Kind::Bool && t.to == Dialect::Postgres && cx.from() == Dialect::Sqlite {
                return refuse("a boolean value in an index or generated column");
            }
            Ok(v.sql)
        }
    }
}

/// A column default: a literal written as the column's kind keeps it, as
/// SQLite's affinity converts it on insert; SQLite's `CURRENT_TIMESTAMP`
/// and `CURRENT_DATE` (UTC, to the second) in a timestamp or date column.
fn default(cx: &mut Ctx<'_, '_>, column: Kind, e: &Expr) -> Result<String> {
    let mut inner = e;
    while let Expr::Nested(x) = inner {
        inner = x;
    }
    if cx.from() == Dialect::Sqlite && cx.to_pg() {
        if let Expr::Function(f) = inner {
            if matches!(f.args, sqlparser::ast::FunctionArguments::None) {
                let name = f.name.to_string().to_ascii_uppercase();
                if column == Kind::Temporal && name == "CURRENT_TIMESTAMP" {
                    return Ok("date_trunc('second', CURRENT_TIMESTAMP AT TIME ZONE 'UTC')".into());
                }
                if column == Kind::Temporal && name == "CURRENT_DATE" {
                    return Ok("CAST(CURRENT_TIMESTAMP AT TIME ZONE 'UTC' AS date)".into());
                }
            }
        }
    }
    if cx.mssql() {
        if let Expr::Function(f) = inner {
            let name = f.name.to_string().to_ascii_lowercase();
            if name == "newid" && column == Kind::Uuid && cx.to_pg() {
                // Both give a new random (version 4) uuid for each row.
                return Ok("gen_random_uuid()".into());
            }
        }
    }
    if cx.from() == Dialect::Postgres && cx.to_mssql() && column == Kind::Uuid {
        if let Expr::Function(f) = inner {
            if f.name.to_string().eq_ignore_ascii_case("gen_random_uuid")
                && matches!(&f.args, sqlparser::ast::FunctionArguments::List(l) if l.args.is_empty())
            {
                // Both give a new random (version 4) uuid for each row.
                return Ok("NEWID()".into());
            }
        }
    }
    let v = cx.value(e)?;
    let pg_source = cx.from() == Dialect::Postgres;
    let exact_both = (cx.mssql() && cx.to_pg()) || (pg_source && cx.to_mssql());
    if exact_both && column == Kind::Decimal && v.kind == Kind::Decimal {
        // A decimal literal (`((1.5))`): PostgreSQL's numeric literal is the
        // same exact value.
        let bare = v.sql.trim_start_matches('(').trim_end_matches(')');
        let digits = bare.strip_prefix('-').unwrap_or(bare);
        if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit() || c == '.') {
            return Ok(bare.to_owned());
        }
    }
    match (column, &v.lit, v.kind) {
        (_, _, Kind::Null) => Ok(v.sql),
        (Kind::Text, Some(Lit::Int(n)), _) if !pg_source => Ok(cx.text(&n.to_string())),
        (Kind::Text, _, Kind::Text) => Ok(v.sql),
        (Kind::Int, Some(Lit::Int(_)), _) => Ok(v.sql),
        (Kind::Float, Some(Lit::Int(_) | Lit::Float(_)), _) => Ok(v.sql),
        (Kind::Decimal, Some(Lit::Int(_)), _) if !pg_source => Ok(v.sql),
        // SQLite keeps 1.5 in a NUMERIC column as the REAL 1.5, which the
        // archive holds as the decimal 1.5.
        (Kind::Decimal, Some(Lit::Float(f)), _) if !pg_source => Ok(format!("{f:?}")),
        (Kind::Bool, Some(Lit::Int(n @ (0 | 1))), _) if !pg_source => {
            Ok(match (cx.to_mssql(), *n) {
                (true, n) => n.to_string(),
                (false, 1) => "true".into(),
                (false, _) => "false".into(),
            })
        }
        (Kind::Bool, _, Kind::Bool) if pg_source => Ok(v.sql),
        (Kind::Int | Kind::Float | Kind::Text, None, k) if k == column => Ok(v.sql),
        (_, _, k) => refuse(format!(
            "a default of {} ({}) for a column of {}",
            k.noun(),
            short(e),
            column.noun()
        )),
    }
}

/// An integer literal as a PostgreSQL bigint; anything else as it is.
fn bigint_literal(v: Out) -> Out {
    match v.lit {
        Some(Lit::Int(n)) if v.kind == Kind::Int => Out {
            sql: format!("CAST({n} AS bigint)"),
            ..v
        },
        _ => v,
    }
}

/// What the refusal of arithmetic on decimals says, by source and target.
fn decimal_refusal(from: Dialect, to: Dialect) -> String {
    match (from, to) {
        (Dialect::Sqlite, _) => format!(
            "arithmetic on a NUMERIC/DECIMAL column (SQLite computes it in floating point, {} \
             in exact decimal)",
            to.display_name()
        ),
        (_, Dialect::Mssql) => "arithmetic on a numeric value (PostgreSQL's result keeps every \
                                digit, SQL Server's decimal rounds to its precision rules)"
            .into(),
        _ => "a numeric value (PostgreSQL computes it in exact decimal; SQLite keeps it as \
              text and computes in floating point)"
            .into(),
    }
}

/// A text's UTF-16 bytes followed by 0x01, which SQL Server compares
/// exactly (see [`Ctx::comparison_operands`]).
fn text_bytes(sql: &str) -> String {
    format!("(CAST(CAST({sql} AS nvarchar(max)) AS varbinary(max)) + 0x01)")
}

/// Whether `e`, a partial index's predicate, has the shape SQL Server
/// allows in a filtered index: conjunctions of a column compared with a
/// number, `IS [NOT] NULL`, IN a list of numbers, or a boolean column.
fn filter_shape(from: Dialect, e: &Expr) -> Result<()> {
    let column = |e: &Expr| matches!(strip(e), Expr::Identifier(_) | Expr::CompoundIdentifier(_));
    let number = |e: &Expr| match strip(e) {
        Expr::Value(v) => matches!(v.value, Value::Number(..) | Value::Boolean(_)),
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } => matches!(strip(expr), Expr::Value(v) if matches!(v.value, Value::Number(..))),
        _ => false,
    };
    let ok = match strip(e) {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => return filter_shape(from, left).and_then(|()| filter_shape(from, right)),
        Expr::BinaryOp { left, op, right } => {
            matches!(
                op,
                BinaryOperator::Eq
                    | BinaryOperator::NotEq
                    | BinaryOperator::Lt
                    | BinaryOperator::LtEq
                    | BinaryOperator::Gt
                    | BinaryOperator::GtEq
            ) && ((column(left) && number(right)) || (number(left) && column(right)))
        }
        Expr::IsNull(x) | Expr::IsNotNull(x) => column(x),
        Expr::InList { expr, list, .. } => column(expr) && list.iter().all(number),
        // A PostgreSQL boolean column, which becomes `column = 1`.
        x => from == Dialect::Postgres && column(x),
    };
    if ok {
        Ok(())
    } else {
        refuse(format!(
            "the filter {} (SQL Server's filtered indexes allow only a column compared with a \
             number, IS NULL and IN, joined by AND)",
            short(e)
        ))
    }
}

fn strip(e: &Expr) -> &Expr {
    match e {
        Expr::Nested(x) => strip(x),
        x => x,
    }
}

fn mixed(what: &str, a: Kind, b: Kind) -> String {
    format!(
        "{what} mixing {} and {} (the engines give the result different types)",
        a.noun(),
        b.noun()
    )
}

/// A source text in a refusal: at most 60 characters of it.
pub(crate) fn short(e: &impl std::fmt::Display) -> String {
    let s = e.to_string();
    match s.char_indices().nth(60) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s,
    }
}

/// A string literal (both targets: `'` doubled, no escapes).
pub(crate) fn quote_text(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A float literal `s` in the target: PostgreSQL reads `1.5` as numeric, so
/// it is cast; SQLite needs a `.` or an exponent to read a REAL.
fn float_literal(to: Dialect, s: &str) -> String {
    match to {
        Dialect::Postgres => format!("CAST({s} AS double precision)"),
        // T-SQL reads 1.5 as a decimal, 1.5E0 as a float.
        Dialect::Mssql if s.contains(['e', 'E']) => s.to_owned(),
        Dialect::Mssql => format!("{s}E0"),
        _ if s.contains(['.', 'e', 'E']) => s.to_owned(),
        _ => format!("{s}.0"),
    }
}

fn tsql_type(k: Kind) -> &'static str {
    match k {
        Kind::Int => "bigint",
        Kind::Float => "float",
        _ => "nvarchar(max)",
    }
}

fn pg_type(k: Kind) -> &'static str {
    match k {
        Kind::Int => "bigint",
        Kind::Float => "double precision",
        Kind::Text => "text",
        _ => "text",
    }
}

/// The kind a cast to `ty` gives, for the casts the table has.
/// `sql`, a decimal literal (maybe in parentheses), with its double, when
/// every engine reads that text as the same double: at most 15
/// significant digits and a small exponent, so that the conversion is one
/// correctly rounded division or multiplication of exact values.
fn exact_double(sql: &str) -> Option<(&str, f64)> {
    let text = sql.trim_start_matches('(').trim_end_matches(')');
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    if unsigned.is_empty() || !unsigned.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    let digits = unsigned
        .trim_matches(|c| c == '0' || c == '.')
        .replace('.', "");
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let whole = whole.trim_start_matches('0').len();
    let f: f64 = text.parse().ok()?;
    (digits.len() <= 15 && whole <= 15 && fraction.len() <= 22 && f.is_finite())
        .then_some((text, f))
}

/// The values PostgreSQL's integer type `ty` holds.
fn int_range(ty: &DataType) -> Option<(i64, i64)> {
    match ty.to_string().to_ascii_lowercase().as_str() {
        "smallint" | "int2" => Some((i16::MIN.into(), i16::MAX.into())),
        "integer" | "int" | "int4" => Some((i32::MIN.into(), i32::MAX.into())),
        "bigint" | "int8" => Some((i64::MIN, i64::MAX)),
        _ => None,
    }
}

fn cast_target(from: Dialect, ty: &DataType) -> Option<Kind> {
    // A length or precision (varchar(10) cuts the text) is not one of them.
    let name = ty.to_string().to_ascii_lowercase();
    if name.contains('(') {
        return None;
    }
    match from {
        // SQL Server's CAST to a text type without a length cuts at 30
        // characters, and real is a 4-byte float: only these.
        Dialect::Mssql => match name.as_str() {
            "int" | "bigint" | "smallint" | "tinyint" => Some(Kind::Int),
            "float" => Some(Kind::Float),
            _ => None,
        },
        Dialect::Sqlite => match name.as_str() {
            "integer" | "int" | "bigint" => Some(Kind::Int),
            "real" | "double" | "float" => Some(Kind::Float),
            "text" => Some(Kind::Text),
            _ => None,
        },
        _ => match name.as_str() {
            "integer" | "int" | "int4" | "bigint" | "int8" | "smallint" | "int2" => Some(Kind::Int),
            "double precision" | "float8" => Some(Kind::Float),
            "text" | "character varying" | "varchar" => Some(Kind::Text),
            _ => None,
        },
    }
}
