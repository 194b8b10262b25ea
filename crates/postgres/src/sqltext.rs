//! A lexer for PostgreSQL's SQL, just enough to split a text into its
//! statements and read each statement's head without ever looking inside a
//! literal, a quoted name or a comment.
//!
//! It follows the server's lexical rules (the "Lexical Structure" chapter):
//! `'…'` strings with `''` inside (standard_conforming_strings is on in
//! bru's sessions, so a backslash is an ordinary character there), `E'…'`
//! strings where a backslash escapes the next character, `B'…'`, `X'…'`,
//! `N'…'` and `U&'…'` strings, `"…"` and `U&"…"` quoted names with `""`
//! inside, `$tag$…$tag$` dollar-quoted strings (a `$` inside a word or
//! before a digit is not one), `--` comments to the end of the line and
//! `/* */` comments, which nest.
//!
//! [`split`] cuts at each `;` outside parentheses (a rule's `DO ( …; … )`
//! keeps its actions) and, in a `CREATE FUNCTION` or `CREATE PROCEDURE`,
//! outside a `BEGIN ATOMIC … END` body, as psql does.

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A bare word: keyword or unquoted identifier.
    Word,
    /// A quoted identifier: `"x"` or `U&"x"`.
    Quoted,
    /// A string literal of any form, dollar-quoted included.
    Str,
    /// A numeric literal.
    Num,
    /// A parameter, `$1`.
    Param,
    /// Any other character.
    Punct,
}

/// One token with its byte span in the text.
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

    /// The name a word or quoted identifier denotes, as the server reads
    /// it: a bare word folded to lower case, a quoted one as written.
    pub fn name(&self, sql: &str) -> Option<String> {
        let t = self.text(sql);
        match self.kind {
            Kind::Word => Some(t.to_ascii_lowercase()),
            Kind::Quoted => {
                let inner = t.strip_prefix("U&").or(t.strip_prefix("u&")).unwrap_or(t);
                Some(inner[1..inner.len() - 1].replace("\"\"", "\""))
            }
            _ => None,
        }
    }

    /// The value of a plain `'…'` string literal (`None` for any other
    /// token, an escape string included).
    pub fn string(&self, sql: &str) -> Option<String> {
        let t = self.text(sql);
        (self.kind == Kind::Str && t.starts_with('\'') && t.len() >= 2 && t.ends_with('\''))
            .then(|| t[1..t.len() - 1].replace("''", "'"))
    }
}

/// Splits `sql` into tokens, skipping whitespace and comments. An
/// unterminated literal, quoted name or comment runs to the end of the text.
pub fn tokenize(sql: &str) -> Vec<Token> {
    let bytes = sql.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let start = i;
        let next = bytes.get(i + 1).copied();
        let kind = match b {
            b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' => {
                i += 1;
                continue;
            }
            // Up to a newline, which for the server is `\n` or `\r` (its
            // lexer's `non_newline`): a comment ending at `\n` only would
            // hide from the checks what follows a lone `\r`.
            b'-' if next == Some(b'-') => {
                i = bytes[i..]
                    .iter()
                    .position(|&b| b == b'\n' || b == b'\r')
                    .map_or(bytes.len(), |p| i + p + 1);
                continue;
            }
            b'/' if next == Some(b'*') => {
                i = skip_block_comment(bytes, i);
                continue;
            }
            b'\'' => {
                i = skip_quoted(bytes, i, b'\'', false);
                Kind::Str
            }
            b'"' => {
                i = skip_quoted(bytes, i, b'"', false);
                Kind::Quoted
            }
            b'e' | b'E' if next == Some(b'\'') => {
                i = skip_quoted(bytes, i + 1, b'\'', true);
                Kind::Str
            }
            b'b' | b'B' | b'x' | b'X' | b'n' | b'N' if next == Some(b'\'') => {
                i = skip_quoted(bytes, i + 1, b'\'', false);
                Kind::Str
            }
            b'u' | b'U' if next == Some(b'&') && matches!(bytes.get(i + 2), Some(b'\'' | b'"')) => {
                let quote = bytes[i + 2];
                i = skip_quoted(bytes, i + 2, quote, false);
                if quote == b'"' {
                    Kind::Quoted
                } else {
                    Kind::Str
                }
            }
            b'$' if next.is_some_and(|c| c.is_ascii_digit()) => {
                i += 1;
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
                Kind::Param
            }
            b'$' => match dollar_tag(bytes, i) {
                Some(tag_end) => {
                    let tag = &bytes[i..tag_end];
                    i = find_slice(bytes, tag_end, tag).map_or(bytes.len(), |p| p + tag.len());
                    Kind::Str
                }
                None => {
                    i += 1;
                    Kind::Punct
                }
            },
            b'0'..=b'9' => {
                i = skip_number(bytes, i);
                Kind::Num
            }
            b'.' if next.is_some_and(|c| c.is_ascii_digit()) => {
                i = skip_number(bytes, i);
                Kind::Num
            }
            _ if is_ident_start(b) => {
                while i < bytes.len() && is_ident_char(bytes[i]) {
                    i += 1;
                }
                Kind::Word
            }
            _ => {
                i += sql[i..].chars().next().map_or(1, char::len_utf8);
                Kind::Punct
            }
        };
        tokens.push(Token {
            kind,
            start,
            end: i.min(bytes.len()),
        });
    }
    tokens
}

/// The statements of `sql`: for each, its tokens (without the `;` that
/// ends it). Empty statements (`;;`) are left out.
pub fn split(sql: &str) -> Vec<Vec<Token>> {
    let tokens = tokenize(sql);
    let mut out = Vec::new();
    let mut current: Vec<Token> = Vec::new();
    let mut parens = 0usize;
    let mut atomic = 0usize;
    for (i, t) in tokens.iter().copied().enumerate() {
        if t.is_punct(sql, ';') && parens == 0 && atomic == 0 {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            continue;
        }
        let after_dot = current.last().is_some_and(|p| p.is_punct(sql, '.'));
        if t.is_punct(sql, '(') {
            parens += 1;
        } else if t.is_punct(sql, ')') {
            parens = parens.saturating_sub(1);
        } else if !after_dot && is_routine(sql, &current) {
            // A body opens at a top-level BEGIN ATOMIC; inside it, CASE
            // and END nest.
            if atomic == 0 {
                let opens = parens == 0
                    && t.is_word(sql, "BEGIN")
                    && tokens.get(i + 1).is_some_and(|n| n.is_word(sql, "ATOMIC"));
                atomic = usize::from(opens);
            } else if t.is_word(sql, "CASE") {
                atomic += 1;
            } else if t.is_word(sql, "END") {
                atomic -= 1;
            }
        }
        current.push(t);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// The text of each statement of `sql`, from its first token to its last.
pub fn statements(sql: &str) -> Vec<&str> {
    split(sql)
        .iter()
        .map(|s| match (s.first(), s.last()) {
            (Some(a), Some(b)) => &sql[a.start..b.end],
            _ => "",
        })
        .collect()
}

/// `sql` without the `OR REPLACE` of a statement that begins `CREATE OR
/// REPLACE`, as it is when it begins otherwise: run so, a `CREATE OR
/// REPLACE FUNCTION` of an archive fails on a function of the target's own
/// with that signature (42723, "already exists") instead of replacing it.
pub fn without_or_replace(sql: &str) -> std::borrow::Cow<'_, str> {
    let tokens = tokenize(sql);
    let word = |i: usize, kw: &str| tokens.get(i).is_some_and(|t| t.is_word(sql, kw));
    if word(0, "CREATE") && word(1, "OR") && word(2, "REPLACE") {
        let (from, to) = (tokens[1].start, tokens[2].end);
        return format!("{}{}", &sql[..from], sql[to..].trim_start()).into();
    }
    sql.into()
}

/// Whether the statement begun by `tokens` is a `CREATE [OR REPLACE]
/// FUNCTION` or `PROCEDURE`, whose SQL-standard body may hold `;`s.
fn is_routine(sql: &str, tokens: &[Token]) -> bool {
    let word = |i: usize, kw: &str| tokens.get(i).is_some_and(|t| t.is_word(sql, kw));
    let routine = |i: usize| word(i, "FUNCTION") || word(i, "PROCEDURE");
    word(0, "CREATE") && (routine(1) || (word(1, "OR") && word(2, "REPLACE") && routine(3)))
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

fn is_ident_char(b: u8) -> bool {
    is_ident_start(b) || b.is_ascii_digit() || b == b'$'
}

/// If a dollar quote's opening tag (`$$` or `$tag$`) starts at `i`, the
/// index just past it.
fn dollar_tag(bytes: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    if bytes.get(j).is_some_and(|&b| is_ident_start(b)) {
        while bytes
            .get(j)
            .is_some_and(|&b| is_ident_start(b) || b.is_ascii_digit())
        {
            j += 1;
        }
    }
    (bytes.get(j) == Some(&b'$')).then_some(j + 1)
}

fn find_slice(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// Skips a `/* */` comment starting at `i`, counting nested ones.
fn skip_block_comment(bytes: &[u8], mut i: usize) -> usize {
    let mut depth = 0usize;
    while i < bytes.len() {
        if bytes[i] == b'/' && bytes.get(i + 1) == Some(&b'*') {
            depth += 1;
            i += 2;
        } else if bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/') {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    bytes.len()
}

/// Skips a literal opened by `quote` at `i`, where a doubled quote is an
/// escaped one and, if `backslash`, a backslash escapes the next byte.
fn skip_quoted(bytes: &[u8], mut i: usize, quote: u8, backslash: bool) -> usize {
    i += 1;
    while i < bytes.len() {
        let b = bytes[i];
        if backslash && b == b'\\' {
            i += 2;
            continue;
        }
        if b == quote {
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
        let exponent_sign =
            (b == b'+' || b == b'-') && i > 0 && matches!(bytes[i - 1], b'e' | b'E');
        if b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || exponent_sign {
            i += 1;
        } else {
            break;
        }
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn or_replace_is_taken_out_of_create_or_replace_only() {
        assert_eq!(
            without_or_replace("CREATE OR REPLACE FUNCTION public.f() RETURNS int"),
            "CREATE FUNCTION public.f() RETURNS int"
        );
        assert_eq!(
            without_or_replace("create  or\n replace procedure p()"),
            "create  procedure p()"
        );
        let kept = "CREATE FUNCTION public.\"or replace\"() RETURNS int AS 'or replace'";
        assert_eq!(without_or_replace(kept), kept);
    }

    fn texts(sql: &str) -> Vec<&str> {
        tokenize(sql).iter().map(|t| t.text(sql)).collect()
    }

    #[test]
    fn literals_names_and_comments_are_single_tokens() {
        let sql = "a 'it''s;' E'\\';' \"q\"\";\" $$;$$ $f$ $$ ; $f$ x$y $1 U&\"d;\" -- ;\n \
                   /* ; /* ; */ ; */ b";
        assert_eq!(
            texts(sql),
            vec![
                "a",
                "'it''s;'",
                "E'\\';'",
                "\"q\"\";\"",
                "$$;$$",
                "$f$ $$ ; $f$",
                "x$y",
                "$1",
                "U&\"d;\"",
                "b"
            ]
        );
        let toks = tokenize(sql);
        assert_eq!(toks[3].name(sql).as_deref(), Some("q\";"));
        assert_eq!(toks[0].name(sql).as_deref(), Some("a"));
        assert_eq!(tokenize("ABC")[0].name("ABC").as_deref(), Some("abc"));
        // The server's `--` comment ends at `\r` too: what follows is SQL.
        assert_eq!(texts("a -- x\r; b\n c"), vec!["a", ";", "b", "c"]);
    }

    #[test]
    fn statements_split_outside_literals_parentheses_and_atomic_bodies() {
        assert_eq!(
            statements("CREATE VIEW v AS SELECT ';'; DELETE FROM victim;"),
            vec!["CREATE VIEW v AS SELECT ';'", "DELETE FROM victim"]
        );
        let rule =
            "CREATE RULE r AS ON INSERT TO public.t DO INSTEAD ( INSERT INTO public.u VALUES (1); \
                    UPDATE public.u SET a = 2; );";
        assert_eq!(statements(rule).len(), 1);
        let atomic = "CREATE FUNCTION public.f() RETURNS int LANGUAGE sql BEGIN ATOMIC \
                      SELECT CASE WHEN true THEN 1 END; SELECT 2; END; DROP TABLE victim";
        let parts = statements(atomic);
        assert_eq!(parts.len(), 2, "{parts:?}");
        assert_eq!(parts[1], "DROP TABLE victim");
        // BEGIN in anything else is no body, nor is a BEGIN that is a name.
        assert_eq!(statements("BEGIN; DROP TABLE victim").len(), 2);
        assert_eq!(
            statements("CREATE VIEW function AS SELECT 1 AS begin; DROP TABLE victim").len(),
            2
        );
        assert_eq!(
            statements(
                "CREATE FUNCTION public.f(begin int) RETURNS int AS 'select 1'; DROP TABLE victim"
            )
            .len(),
            2
        );
        // An unterminated comment or string swallows the rest.
        assert_eq!(statements("CREATE VIEW v AS SELECT 1 /* ; DROP").len(), 1);
    }
}
