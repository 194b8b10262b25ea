//! Quoting identifiers and literals for generated SQL.
//!
//! Every name bru puts into SQL goes through [`ident`], so a table called
//! `order` or `a"b` works as well as `agents`: SQLite's double-quoted
//! identifiers take any text once inner quotes are doubled.

/// `name` as a double-quoted SQLite identifier.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A comma-separated list of quoted identifiers.
pub fn ident_list<S: AsRef<str>>(names: &[S]) -> String {
    names
        .iter()
        .map(|n| ident(n.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_inner_quotes() {
        assert_eq!(ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(ident_list(&["x", "y"]), "\"x\", \"y\"");
    }
}
