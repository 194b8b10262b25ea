//! T-SQL quoting for the statements the target builds: bracketed
//! identifiers (`[a]]b]`), Unicode string literals (`N'it''s'`), and the
//! schema a table lands in (`dbo` for an engine without schemas).

use bru_core::TableName;

/// `name` as a bracketed identifier, `]` doubled.
pub(crate) fn ident(name: &str) -> String {
    format!("[{}]", name.replace(']', "]]"))
}

/// The schema `table` is restored into: its own, or `dbo` for a table of
/// an engine without schemas (SQLite).
pub(crate) fn schema_of(table: &TableName) -> &str {
    table.schema.as_deref().unwrap_or("dbo")
}

/// `[schema].[name]`.
pub(crate) fn qualified(table: &TableName) -> String {
    format!("{}.{}", ident(schema_of(table)), ident(&table.name))
}

/// `s` as a Unicode string literal, `'` doubled.
pub(crate) fn nstr(s: &str) -> String {
    format!("N'{}'", s.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_and_quotes_are_doubled() {
        assert_eq!(ident("a]b"), "[a]]b]");
        assert_eq!(ident("plain"), "[plain]");
        assert_eq!(nstr("it's"), "N'it''s'");
        assert_eq!(qualified(&TableName::bare("t")), "[dbo].[t]");
        assert_eq!(qualified(&TableName::new(Some("hr"), "x]y")), "[hr].[x]]y]");
    }
}
