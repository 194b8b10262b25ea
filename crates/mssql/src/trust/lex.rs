//! A T-SQL lexer for the trust checker: it finds where strings, quoted
//! names and comments begin and end exactly as SQL Server does, since that
//! is what a hostile text would try to make the checker misread.
//!
//! - `'…'` and `N'…'` strings, `''` inside them a quote;
//! - `[…]` names, `]]` inside them a `]`; `"…"` names (or strings with
//!   QUOTED_IDENTIFIER off: one token either way), `""` inside them a `"`;
//! - `--` comments to the end of the line, `/* … */` comments, which
//!   nest in T-SQL (`/* /* */ still a comment */`);
//! - words: letters, digits, `_`, `@`, `#`, `$`, starting with a letter,
//!   `_`, `@` or `#` (`@x`, `@@rowcount`, `#temp` are one word each);
//! - numbers (`12`, `1.5e3`, `0x1F`, `$1.50` with its currency sign), and
//!   every other character as punctuation.
//!
//! `GO` is not T-SQL (it is sqlcmd's batch separator): here it is a word
//! like any other, so a text cannot end one batch and start another with
//! it. Anything unterminated is an error, never guessed at.

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A keyword or a bare name.
    Word,
    /// A `[…]` or `"…"` name.
    Quoted,
    /// A `'…'` or `N'…'` string.
    Str,
    Number,
    /// One character of punctuation.
    Punct,
}

/// One token: its kind and where it is in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
}

impl Token {
    pub fn text<'a>(&self, src: &'a str) -> &'a str {
        &src[self.start..self.end]
    }

    /// Whether this is the word `w` (ASCII case ignored, as T-SQL keywords).
    pub fn is_word(&self, src: &str, w: &str) -> bool {
        self.kind == Kind::Word && self.text(src).eq_ignore_ascii_case(w)
    }

    pub fn is_punct(&self, src: &str, c: char) -> bool {
        self.kind == Kind::Punct && self.text(src).starts_with(c)
    }

    /// The name this token spells: a bare word as it is, a `[…]` or `"…"`
    /// name unquoted. `None` for strings, numbers and punctuation.
    pub fn name(&self, src: &str) -> Option<String> {
        let t = self.text(src);
        match self.kind {
            Kind::Word => Some(t.to_string()),
            Kind::Quoted if t.starts_with('[') => Some(t[1..t.len() - 1].replace("]]", "]")),
            Kind::Quoted => Some(t[1..t.len() - 1].replace("\"\"", "\"")),
            _ => None,
        }
    }
}

/// The tokens of `src`, comments left out; `Err` names what is
/// unterminated and where.
pub fn tokenize(src: &str) -> Result<Vec<Token>, String> {
    Ok(tokenize_with_comments(src)?.tokens)
}

/// A text's tokens and what its comments were.
#[derive(Debug)]
pub struct Lexed {
    pub tokens: Vec<Token>,
    /// How many comments it held.
    pub comments: usize,
    /// Whether it ends inside a `--` comment (no line break after it):
    /// spliced into a longer statement, such a text would hide what comes
    /// after it up to the next line break, and make the server read the
    /// next fragment from the middle.
    pub ends_in_line_comment: bool,
}

/// [`tokenize`], with what the comments were.
pub fn tokenize_with_comments(src: &str) -> Result<Lexed, String> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut comments = 0;
    let mut ends_in_line_comment = false;
    let mut i = 0;
    let unterminated = |what: &str, at: usize| {
        Err(format!(
            "has an unterminated {what} starting at `{}`",
            shorten(&src[at..])
        ))
    };
    while i < b.len() {
        let c = b[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c == b'-' && b.get(i + 1) == Some(&b'-') {
            comments += 1;
            // A carriage return ends it too: whichever way the server
            // reads a bare `\r`, this lexer then sees at least as much
            // text as the server runs, never less.
            while i < b.len() && b[i] != b'\n' && b[i] != b'\r' {
                i += 1;
            }
            ends_in_line_comment = i == b.len();
            continue;
        }
        if c == b'/' && b.get(i + 1) == Some(&b'*') {
            comments += 1;
            let mut depth = 0usize;
            loop {
                if i + 1 >= b.len() {
                    return unterminated("comment", start);
                }
                if b[i] == b'/' && b[i + 1] == b'*' {
                    depth += 1;
                    i += 2;
                } else if b[i] == b'*' && b[i + 1] == b'/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            continue;
        }
        let string_at = if c == b'\'' {
            Some(i)
        } else if (c == b'N' || c == b'n') && b.get(i + 1) == Some(&b'\'') {
            Some(i + 1)
        } else {
            None
        };
        if let Some(q) = string_at {
            i = match closing(b, q + 1, b'\'') {
                Some(end) => end,
                None => return unterminated("string", start),
            };
            out.push(Token {
                kind: Kind::Str,
                start,
                end: i,
            });
            continue;
        }
        if c == b'[' || c == b'"' {
            let close = if c == b'[' { b']' } else { b'"' };
            i = match closing(b, i + 1, close) {
                Some(end) => end,
                None => return unterminated("quoted name", start),
            };
            out.push(Token {
                kind: Kind::Quoted,
                start,
                end: i,
            });
            continue;
        }
        if c.is_ascii_digit()
            || (c == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit))
            || (c == b'$'
                && b.get(i + 1)
                    .is_some_and(|d| d.is_ascii_digit() || *d == b'.'))
        {
            i += 1;
            if c == b'0' && matches!(b.get(i), Some(b'x' | b'X')) {
                i += 1;
                while i < b.len() && b[i].is_ascii_hexdigit() {
                    i += 1;
                }
            } else {
                while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
                    i += 1;
                }
                if matches!(b.get(i), Some(b'e' | b'E')) {
                    let mut j = i + 1;
                    if matches!(b.get(j), Some(b'+' | b'-')) {
                        j += 1;
                    }
                    if b.get(j).is_some_and(u8::is_ascii_digit) {
                        i = j;
                        while i < b.len() && b[i].is_ascii_digit() {
                            i += 1;
                        }
                    }
                }
            }
            out.push(Token {
                kind: Kind::Number,
                start,
                end: i,
            });
            continue;
        }
        let ch = src[i..].chars().next().unwrap_or('\0');
        if ch.is_alphabetic() || ch == '_' || ch == '@' || ch == '#' {
            i += ch.len_utf8();
            while let Some(ch) = src[i..].chars().next() {
                if ch.is_alphanumeric() || matches!(ch, '_' | '@' | '#' | '$') {
                    i += ch.len_utf8();
                } else {
                    break;
                }
            }
            out.push(Token {
                kind: Kind::Word,
                start,
                end: i,
            });
            continue;
        }
        i += ch.len_utf8().max(1);
        out.push(Token {
            kind: Kind::Punct,
            start,
            end: i,
        });
    }
    Ok(Lexed {
        tokens: out,
        comments,
        ends_in_line_comment,
    })
}

/// The index just past the `close` that ends a quoted token whose text
/// starts at `from`, a doubled `close` standing for itself.
fn closing(b: &[u8], mut from: usize, close: u8) -> Option<usize> {
    while from < b.len() {
        if b[from] == close {
            if b.get(from + 1) == Some(&close) {
                from += 2;
                continue;
            }
            return Some(from + 1);
        }
        from += 1;
    }
    None
}

/// The first 60 characters of `s` on one line, for messages.
pub fn shorten(s: &str) -> String {
    let one: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(60)
        .collect();
    if s.chars().count() > 60 {
        format!("{one}…")
    } else {
        one
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<(Kind, String)> {
        tokenize(src)
            .unwrap()
            .into_iter()
            .map(|t| (t.kind, t.text(src).to_string()))
            .collect()
    }

    #[test]
    fn quotes_and_comments_end_where_sql_server_ends_them() {
        use Kind::*;
        assert_eq!(
            kinds("[a]]b] N'it''s' \"x\"\"y\" 'a;b' -- ; DROP\n x"),
            vec![
                (Quoted, "[a]]b]".into()),
                (Str, "N'it''s'".into()),
                (Quoted, "\"x\"\"y\"".into()),
                (Str, "'a;b'".into()),
                (Word, "x".into()),
            ]
        );
        // Nested comments: the first */ does not end the outer one.
        assert_eq!(
            kinds("a /* x /* y */ ; DROP TABLE t */ b"),
            vec![(Word, "a".into()), (Word, "b".into())]
        );
        assert_eq!(
            kinds("@x @@rowcount #t $1.50 0x1F 1.5e3 ;"),
            vec![
                (Word, "@x".into()),
                (Word, "@@rowcount".into()),
                (Word, "#t".into()),
                (Number, "$1.50".into()),
                (Number, "0x1F".into()),
                (Number, "1.5e3".into()),
                (Punct, ";".into()),
            ]
        );
        let t = tokenize("[a]]b]").unwrap();
        assert_eq!(t[0].name("[a]]b]").as_deref(), Some("a]b"));
    }

    #[test]
    fn anything_unterminated_is_refused() {
        for bad in [
            "'abc",
            "N'it''s",
            "[a]]",
            "\"x",
            "/* a /* b */",
            "/*",
            "x /* /* */ */ /*",
        ] {
            let e = tokenize(bad).unwrap_err();
            assert!(e.contains("unterminated"), "{bad}: {e}");
        }
        assert!(
            tokenize_with_comments("a -- b")
                .unwrap()
                .ends_in_line_comment
        );
        assert!(
            !tokenize_with_comments("a -- b\n")
                .unwrap()
                .ends_in_line_comment
        );
        assert!(
            !tokenize_with_comments("a /* b */")
                .unwrap()
                .ends_in_line_comment
        );
        // A `]` or `'` inside the other quoting is just a character.
        assert_eq!(tokenize("'[' ']' [']").unwrap().len(), 3);
    }
}
