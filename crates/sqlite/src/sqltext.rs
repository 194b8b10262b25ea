//! A small SQL tokenizer for the statements stored in `sqlite_schema`.
//!
//! SQLite's PRAGMAs describe columns, keys and indexes, but not everything:
//! CHECK constraints, generated-column expressions, AUTOINCREMENT, and a
//! foreign key's DEFERRABLE clause exist only in the `CREATE` text. Finding
//! them by string search would be fooled by a string literal or a quoted
//! name containing `CHECK (`, so this tokenizer understands just enough of
//! SQLite's lexical rules to never look inside strings, quoted identifiers
//! or comments, and to keep parentheses balanced. Every token keeps its byte
//! span, so expressions are cut out of the original text exactly as written.

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A bare word: keyword or unquoted identifier.
    Word,
    /// A quoted identifier: `"x"`, `[x]` or `` `x` ``.
    Quoted,
    /// A string or blob literal: `'x'`, `x'00'`.
    Str,
    /// A numeric literal.
    Num,
    /// Any other character (operators, `(`, `)`, `,`, `;`).
    Punct,
}

/// One token with its byte span in the source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
}

impl Token {
    /// The token's original text.
    pub fn text<'s>(&self, sql: &'s str) -> &'s str {
        &sql[self.start..self.end]
    }

    /// True if this is the bare word `kw` (case-insensitive).
    pub fn is_word(&self, sql: &str, kw: &str) -> bool {
        self.kind == Kind::Word && self.text(sql).eq_ignore_ascii_case(kw)
    }

    /// True if this is the punctuation character `c`.
    pub fn is_punct(&self, sql: &str, c: char) -> bool {
        self.kind == Kind::Punct && self.text(sql).starts_with(c)
    }

    /// The name this token denotes: a bare word as is, a quoted identifier
    /// (or a string used as a name, which SQLite allows) unquoted.
    pub fn name(&self, sql: &str) -> String {
        let t = self.text(sql);
        match self.kind {
            Kind::Quoted | Kind::Str if t.len() >= 2 => {
                let open = t.as_bytes()[0];
                let inner = &t[1..t.len() - 1];
                match open {
                    b'"' => inner.replace("\"\"", "\""),
                    b'`' => inner.replace("``", "`"),
                    b'\'' => inner.replace("''", "'"),
                    _ => inner.to_owned(),
                }
            }
            _ => t.to_owned(),
        }
    }
}

/// Splits `sql` into tokens, skipping whitespace and comments. An
/// unterminated string or quoted name runs to the end of the text (SQLite
/// would have rejected such a statement, so it cannot come from a schema).
pub fn tokenize(sql: &str) -> Vec<Token> {
    let bytes = sql.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let start = i;
        let kind = match b {
            b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' => {
                i += 1;
                continue;
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = find_from(bytes, i, b"\n").map_or(bytes.len(), |p| p + 1);
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = find_from(bytes, i + 2, b"*/").map_or(bytes.len(), |p| p + 2);
                continue;
            }
            b'\'' | b'"' | b'`' => {
                i = skip_quoted(bytes, i, b);
                if b == b'\'' {
                    Kind::Str
                } else {
                    Kind::Quoted
                }
            }
            b'[' => {
                i = find_from(bytes, i + 1, b"]").map_or(bytes.len(), |p| p + 1);
                Kind::Quoted
            }
            b'x' | b'X' if bytes.get(i + 1) == Some(&b'\'') => {
                i = skip_quoted(bytes, i + 1, b'\'');
                Kind::Str
            }
            b'0'..=b'9' => {
                i = skip_number(bytes, i);
                Kind::Num
            }
            b'.' if bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                i = skip_number(bytes, i);
                Kind::Num
            }
            _ if is_word_byte(b) => {
                while i < bytes.len() && (is_word_byte(bytes[i]) || bytes[i].is_ascii_digit()) {
                    i += 1;
                }
                Kind::Word
            }
            _ => {
                // One character, which may be multi-byte UTF-8.
                i += sql[i..].chars().next().map_or(1, char::len_utf8);
                Kind::Punct
            }
        };
        tokens.push(Token {
            kind,
            start,
            end: i,
        });
    }
    tokens
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b'$' || b >= 0x80
}

fn find_from(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// Skips a literal opened by `quote` at `i`, where a doubled quote is an
/// escaped one; returns the index just past the closing quote.
fn skip_quoted(bytes: &[u8], mut i: usize, quote: u8) -> usize {
    i += 1;
    while i < bytes.len() {
        if bytes[i] == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    bytes.len()
}

fn skip_number(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() {
        let b = bytes[i];
        let exponent_sign = (b == b'+' || b == b'-')
            && i > 0
            && matches!(bytes[i - 1], b'e' | b'E')
            && !bytes[..i].starts_with(b"0x");
        if b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || exponent_sign {
            i += 1;
        } else {
            break;
        }
    }
    i
}

/// The index of the `)` matching the `(` at `open`, or `None` if the
/// parentheses are unbalanced.
pub fn matching_paren(sql: &str, tokens: &[Token], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, t) in tokens.iter().enumerate().skip(open) {
        if t.is_punct(sql, '(') {
            depth += 1;
        } else if t.is_punct(sql, ')') {
            depth = depth.checked_sub(1)?;
            if depth == 0 {
                return Some(i);
            }
        }
    }
    None
}

/// Splits `tokens` at commas outside parentheses.
pub fn split_top_level<'t>(sql: &str, tokens: &'t [Token]) -> Vec<&'t [Token]> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut begin = 0;
    for (i, t) in tokens.iter().enumerate() {
        if t.is_punct(sql, '(') {
            depth += 1;
        } else if t.is_punct(sql, ')') {
            depth -= 1;
        } else if depth == 0 && t.is_punct(sql, ',') {
            parts.push(&tokens[begin..i]);
            begin = i + 1;
        }
    }
    if begin < tokens.len() {
        parts.push(&tokens[begin..]);
    }
    parts
}

/// The original text covered by `tokens` (from the first token's start to
/// the last token's end), or an empty string for no tokens.
pub fn span_text<'s>(sql: &'s str, tokens: &[Token]) -> &'s str {
    match (tokens.first(), tokens.last()) {
        (Some(a), Some(b)) => &sql[a.start..b.end],
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sql: &str) -> Vec<&str> {
        tokenize(sql).iter().map(|t| t.text(sql)).collect()
    }

    #[test]
    fn strings_quotes_and_comments_are_single_tokens() {
        let sql = "a 'it''s (' \"q\"\"(\" [x y] `b` -- c (\n x'00' 1.5e-3 /* ( */ )";
        assert_eq!(
            texts(sql),
            vec![
                "a",
                "'it''s ('",
                "\"q\"\"(\"",
                "[x y]",
                "`b`",
                "x'00'",
                "1.5e-3",
                ")"
            ]
        );
        let toks = tokenize(sql);
        assert_eq!(toks[2].name(sql), "q\"(");
        assert_eq!(toks[3].name(sql), "x y");
    }

    #[test]
    fn top_level_split_respects_parentheses() {
        let sql = "a INT CHECK (a IN (1, 2)), b TEXT, c";
        let toks = tokenize(sql);
        let parts = split_top_level(sql, &toks);
        assert_eq!(parts.len(), 3);
        assert_eq!(span_text(sql, parts[0]), "a INT CHECK (a IN (1, 2))");
        let open = toks.iter().position(|t| t.is_punct(sql, '(')).unwrap();
        let close = matching_paren(sql, &toks, open).unwrap();
        assert_eq!(toks[close].start, sql.find("))").unwrap() + 1);
    }

    #[test]
    fn non_ascii_letters_are_part_of_words_as_in_sqlite() {
        assert_eq!(texts("café+b"), vec!["café", "+", "b"]);
    }
}
