//! What the PRAGMAs do not tell: clauses read from `CREATE TABLE` and
//! `CREATE INDEX` text.
//!
//! The catalog reader takes columns, keys and indexes from SQLite's PRAGMAs
//! (the authority) and only the following from the statement text, using the
//! tokenizer in [`crate::sqltext`]:
//! - CHECK constraints (column and table level) with their names;
//! - generated-column expressions and whether they are STORED;
//! - AUTOINCREMENT, and `PRIMARY KEY DESC` (which stops an INTEGER PRIMARY KEY
//!   from being a rowid alias);
//! - a foreign key's name and its DEFERRABLE / INITIALLY DEFERRED clause;
//! - constraint names of the primary key and UNIQUE constraints;
//! - WITHOUT ROWID and STRICT;
//! - for an index, each indexed expression's text and the WHERE predicate.

use bru_core::{CheckConstraint, Generated};

use crate::sqltext::{matching_paren, span_text, split_top_level, tokenize, Kind, Token};

/// Clauses of one `CREATE TABLE` statement.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TableSql {
    pub columns: Vec<ColumnSql>,
    /// Column and table CHECK constraints, in declaration order.
    pub checks: Vec<CheckConstraint>,
    pub foreign_keys: Vec<ForeignKeySql>,
    pub primary_key_name: Option<String>,
    /// Named UNIQUE constraints: the columns and the name.
    pub unique_names: Vec<(Vec<String>, String)>,
    pub without_rowid: bool,
    pub strict: bool,
}

/// Clauses of one column definition.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ColumnSql {
    pub name: String,
    pub generated: Option<Generated>,
    pub autoincrement: bool,
    /// `PRIMARY KEY DESC` on the column itself.
    pub primary_key_desc: bool,
}

/// The parts of a foreign key that PRAGMA foreign_key_list leaves out.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ForeignKeySql {
    pub name: Option<String>,
    pub columns: Vec<String>,
    pub ref_table: String,
    pub deferrable: bool,
    pub initially_deferred: bool,
}

impl TableSql {
    /// The clauses of the column called `name` (case-insensitive, as SQLite
    /// compares names).
    pub fn column(&self, name: &str) -> Option<&ColumnSql> {
        self.columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }
}

/// Parses a `CREATE TABLE` statement. Text that is not one (or is cut
/// short) yields whatever was recognised; the PRAGMAs remain the authority
/// for columns and keys.
pub fn parse_create_table(sql: &str) -> TableSql {
    let tokens = tokenize(sql);
    let mut out = TableSql::default();
    let Some(open) = tokens.iter().position(|t| t.is_punct(sql, '(')) else {
        return out;
    };
    let Some(close) = matching_paren(sql, &tokens, open) else {
        return out;
    };
    for item in split_top_level(sql, &tokens[open + 1..close]) {
        let Some(first) = item.first() else { continue };
        let is_table_constraint = ["CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"]
            .iter()
            .any(|kw| first.is_word(sql, kw));
        if is_table_constraint {
            parse_table_constraint(sql, item, &mut out);
        } else {
            parse_column(sql, item, &mut out);
        }
    }
    let options = &tokens[close + 1..];
    out.without_rowid = options
        .windows(2)
        .any(|w| w[0].is_word(sql, "WITHOUT") && w[1].is_word(sql, "ROWID"));
    out.strict = options.iter().any(|t| t.is_word(sql, "STRICT"));
    out
}

/// The text inside the parenthesised group opening at `item[at]`, and the
/// index just past its closing parenthesis.
fn paren_group<'s>(sql: &'s str, item: &[Token], at: usize) -> Option<(&'s str, usize)> {
    if !item.get(at)?.is_punct(sql, '(') {
        return None;
    }
    let close = matching_paren(sql, item, at)?;
    Some((span_text(sql, &item[at + 1..close]), close + 1))
}

/// The names in a parenthesised column list (`(a, "b" COLLATE x DESC)`),
/// taking each entry's first token.
fn name_list(sql: &str, item: &[Token], at: usize) -> Option<(Vec<String>, usize)> {
    if !item.get(at)?.is_punct(sql, '(') {
        return None;
    }
    let close = matching_paren(sql, item, at)?;
    let names = split_top_level(sql, &item[at + 1..close])
        .into_iter()
        .filter_map(|entry| entry.first().map(|t| t.name(sql)))
        .collect();
    Some((names, close + 1))
}

fn parse_column(sql: &str, item: &[Token], out: &mut TableSql) {
    let mut col = ColumnSql {
        name: item[0].name(sql),
        ..ColumnSql::default()
    };
    let mut pending_name: Option<String> = None;
    let mut i = 1;
    let mut depth = 0i32;
    while i < item.len() {
        let t = item[i];
        if t.is_punct(sql, '(') {
            depth += 1;
        } else if t.is_punct(sql, ')') {
            depth -= 1;
        }
        if depth > 0 || t.kind != Kind::Word {
            i += 1;
            continue;
        }
        if t.is_word(sql, "CONSTRAINT") {
            pending_name = item.get(i + 1).map(|n| n.name(sql));
            i += 2;
        } else if t.is_word(sql, "CHECK") {
            if let Some((expr, next)) = paren_group(sql, item, i + 1) {
                out.checks.push(CheckConstraint {
                    name: pending_name.take(),
                    expr: expr.to_owned(),
                });
                i = next;
            } else {
                i += 1;
            }
        } else if t.is_word(sql, "AS") {
            if let Some((expr, next)) = paren_group(sql, item, i + 1) {
                let stored = item.get(next).is_some_and(|n| n.is_word(sql, "STORED"));
                col.generated = Some(Generated {
                    expr: expr.to_owned(),
                    stored,
                });
                i = next;
            } else {
                i += 1;
            }
        } else if t.is_word(sql, "PRIMARY") {
            if item.get(i + 2).is_some_and(|n| n.is_word(sql, "DESC")) {
                col.primary_key_desc = true;
            }
            pending_name = None;
            i += 1;
        } else if t.is_word(sql, "AUTOINCREMENT") {
            col.autoincrement = true;
            i += 1;
        } else if t.is_word(sql, "REFERENCES") {
            let (fk, next) = parse_references(sql, item, i, pending_name.take());
            out.foreign_keys.push(ForeignKeySql {
                columns: vec![col.name.clone()],
                ..fk
            });
            i = next;
        } else {
            i += 1;
        }
    }
    out.columns.push(col);
}

fn parse_table_constraint(sql: &str, item: &[Token], out: &mut TableSql) {
    let mut i = 0;
    let mut name = None;
    if item[0].is_word(sql, "CONSTRAINT") {
        name = item.get(1).map(|n| n.name(sql));
        i = 2;
    }
    let Some(kw) = item.get(i) else { return };
    if kw.is_word(sql, "CHECK") {
        if let Some((expr, _)) = paren_group(sql, item, i + 1) {
            out.checks.push(CheckConstraint {
                name,
                expr: expr.to_owned(),
            });
        }
    } else if kw.is_word(sql, "PRIMARY") {
        out.primary_key_name = name;
    } else if kw.is_word(sql, "UNIQUE") {
        if let (Some(name), Some((cols, _))) = (name, name_list(sql, item, i + 1)) {
            out.unique_names.push((cols, name));
        }
    } else if kw.is_word(sql, "FOREIGN") {
        // FOREIGN KEY (cols) REFERENCES ...
        let Some((columns, next)) = name_list(sql, item, i + 2) else {
            return;
        };
        if item.get(next).is_some_and(|t| t.is_word(sql, "REFERENCES")) {
            let (fk, _) = parse_references(sql, item, next, name);
            out.foreign_keys.push(ForeignKeySql { columns, ..fk });
        }
    }
}

/// Parses `REFERENCES table [(cols)] [ON ...] [[NOT] DEFERRABLE [INITIALLY
/// DEFERRED|IMMEDIATE]]` starting at `item[at]` (the REFERENCES keyword).
/// Returns the clause (without local columns) and the index after it.
fn parse_references(
    sql: &str,
    item: &[Token],
    at: usize,
    name: Option<String>,
) -> (ForeignKeySql, usize) {
    let mut fk = ForeignKeySql {
        name,
        ref_table: item.get(at + 1).map(|t| t.name(sql)).unwrap_or_default(),
        ..ForeignKeySql::default()
    };
    let mut i = at + 2;
    if let Some((_, next)) = name_list(sql, item, i) {
        i = next;
    }
    // The clause runs until the next column constraint keyword.
    const ENDS: [&str; 8] = [
        "CONSTRAINT",
        "PRIMARY",
        "UNIQUE",
        "CHECK",
        "DEFAULT",
        "COLLATE",
        "GENERATED",
        "AS",
    ];
    while i < item.len() {
        let t = item[i];
        if ENDS.iter().any(|kw| t.is_word(sql, kw)) || t.is_word(sql, "REFERENCES") {
            break;
        }
        if t.is_word(sql, "DEFERRABLE") {
            let negated = i > 0 && item[i - 1].is_word(sql, "NOT");
            fk.deferrable = !negated;
            if !negated
                && item.get(i + 1).is_some_and(|n| n.is_word(sql, "INITIALLY"))
                && item.get(i + 2).is_some_and(|n| n.is_word(sql, "DEFERRED"))
            {
                fk.initially_deferred = true;
            }
        }
        i += 1;
    }
    (fk, i)
}

/// Clauses of one `CREATE INDEX` statement.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct IndexSql {
    /// Each indexed entry's text, without a trailing ASC/DESC.
    pub entries: Vec<String>,
    /// The WHERE clause of a partial index.
    pub predicate: Option<String>,
}

/// Parses a `CREATE [UNIQUE] INDEX name ON table (entries) [WHERE expr]`.
pub fn parse_create_index(sql: &str) -> IndexSql {
    let tokens = tokenize(sql);
    let mut out = IndexSql::default();
    let Some(on) = tokens.iter().position(|t| t.is_word(sql, "ON")) else {
        return out;
    };
    let Some(open) = tokens[on..]
        .iter()
        .position(|t| t.is_punct(sql, '('))
        .map(|p| p + on)
    else {
        return out;
    };
    let Some(close) = matching_paren(sql, &tokens, open) else {
        return out;
    };
    out.entries = split_top_level(sql, &tokens[open + 1..close])
        .into_iter()
        .map(|entry| {
            let trimmed = match entry.split_last() {
                Some((last, rest))
                    if !rest.is_empty()
                        && (last.is_word(sql, "ASC") || last.is_word(sql, "DESC")) =>
                {
                    rest
                }
                _ => entry,
            };
            span_text(sql, trimmed).to_owned()
        })
        .collect();
    let rest = &tokens[close + 1..];
    if let Some(w) = rest.iter().position(|t| t.is_word(sql, "WHERE")) {
        let mut pred = &rest[w + 1..];
        if pred.last().is_some_and(|t| t.is_punct(sql, ';')) {
            pred = &pred[..pred.len() - 1];
        }
        out.predicate = Some(span_text(sql, pred).to_owned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_checks_generated_autoincrement_and_deferrable_fks() {
        let sql = r#"CREATE TABLE "t ( x" (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            qty INT CONSTRAINT qty_pos CHECK (qty > 0 AND note <> 'CHECK (')
                REFERENCES other(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
            note TEXT DEFAULT ('a,b'),
            total REAL GENERATED ALWAYS AS (qty * 2) STORED,
            v AS (qty + 1),
            CONSTRAINT pk PRIMARY KEY (id),
            CONSTRAINT u1 UNIQUE (qty, note),
            CHECK (length(note) < 10),
            CONSTRAINT fk2 FOREIGN KEY (note) REFERENCES "Other T" NOT DEFERRABLE
        ) WITHOUT ROWID, STRICT"#;
        let t = parse_create_table(sql);
        let names: Vec<_> = t.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["id", "qty", "note", "total", "v"]);
        assert!(t.column("ID").unwrap().autoincrement);
        assert_eq!(
            t.column("total").unwrap().generated,
            Some(Generated {
                expr: "qty * 2".into(),
                stored: true
            })
        );
        assert!(!t.column("v").unwrap().generated.as_ref().unwrap().stored);
        assert_eq!(t.checks.len(), 2);
        assert_eq!(t.checks[0].name.as_deref(), Some("qty_pos"));
        assert_eq!(t.checks[0].expr, "qty > 0 AND note <> 'CHECK ('");
        assert_eq!(t.checks[1].expr, "length(note) < 10");
        assert_eq!(t.foreign_keys.len(), 2);
        assert_eq!(t.foreign_keys[0].columns, ["qty"]);
        assert!(t.foreign_keys[0].deferrable && t.foreign_keys[0].initially_deferred);
        assert_eq!(t.foreign_keys[1].name.as_deref(), Some("fk2"));
        assert_eq!(t.foreign_keys[1].ref_table, "Other T");
        assert!(!t.foreign_keys[1].deferrable);
        assert_eq!(t.primary_key_name.as_deref(), Some("pk"));
        assert_eq!(
            t.unique_names,
            [(vec!["qty".to_owned(), "note".to_owned()], "u1".to_owned())]
        );
        assert!(t.without_rowid && t.strict);
    }

    #[test]
    fn reads_index_entries_and_predicate() {
        let i = parse_create_index(
            "CREATE UNIQUE INDEX ix ON t (lower(name) DESC, \"b\" COLLATE NOCASE) WHERE a > 0 AND b IS NOT NULL",
        );
        assert_eq!(i.entries, ["lower(name)", "\"b\" COLLATE NOCASE"]);
        assert_eq!(i.predicate.as_deref(), Some("a > 0 AND b IS NOT NULL"));
    }
}
