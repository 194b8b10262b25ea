//! Quoting identifiers and literals for the SQL bru generates.

use bru_core::TableName;

/// Keywords that cannot be bare column or table names; quoting every name
/// that is not plain lower-case ASCII covers the rest.
const RESERVED: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "both",
    "case",
    "cast",
    "check",
    "collate",
    "column",
    "constraint",
    "create",
    "current_catalog",
    "current_date",
    "current_role",
    "current_time",
    "current_timestamp",
    "current_user",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "false",
    "fetch",
    "for",
    "foreign",
    "from",
    "grant",
    "group",
    "having",
    "in",
    "initially",
    "intersect",
    "into",
    "lateral",
    "leading",
    "limit",
    "localtime",
    "localtimestamp",
    "not",
    "null",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "placing",
    "primary",
    "references",
    "returning",
    "select",
    "session_user",
    "some",
    "symmetric",
    "table",
    "then",
    "to",
    "trailing",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "variadic",
    "when",
    "where",
    "window",
    "with",
];

/// An identifier, double-quoted unless it is a plain lower-case name.
pub(crate) fn ident(name: &str) -> String {
    let plain = !name.is_empty()
        && name
            .bytes()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == b'_')
        && name
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
        && !RESERVED.contains(&name);
    if plain {
        name.to_owned()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// A table name, schema-qualified when it has a schema.
pub(crate) fn qualified(t: &TableName) -> String {
    match &t.schema {
        Some(s) => format!("{}.{}", ident(s), ident(&t.name)),
        None => ident(&t.name),
    }
}

/// Where a table lands in PostgreSQL: tables without a schema (from SQLite)
/// go to `public`. bru's sessions run with an empty search_path, so every
/// name must be qualified.
pub(crate) fn target_name(t: &TableName) -> TableName {
    TableName {
        schema: Some(t.schema.clone().unwrap_or_else(|| "public".into())),
        name: t.name.clone(),
    }
}

/// A SQL string literal (standard_conforming_strings is on in bru's sessions).
pub(crate) fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_when_needed() {
        assert_eq!(ident("agents"), "agents");
        assert_eq!(ident("Agents"), "\"Agents\"");
        assert_eq!(ident("user"), "\"user\"");
        assert_eq!(ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(ident("1x"), "\"1x\"");
        assert_eq!(qualified(&TableName::new(Some("hr"), "t")), "hr.t");
    }
}
