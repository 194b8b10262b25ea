//! Where a connection string holds passwords, in each spelling libpq (and
//! the driver, which parses them the way libpq does) accepts: the URL's
//! `user:password@`, its `?password=` parameter (names and values
//! percent-encoded or not), and the `key=value` form's `password=…`
//! (quoted with `'…'` and backslash escapes, or not). [`redact`] replaces
//! each with `***`, for the engine registry ([`bru_core::Engine::redact`]);
//! [`secrets`] gives them as written, so that [`super::Settings`] also
//! scrubs them from whatever the driver says. A leaf module: it reads text
//! and knows nothing of connections.

use std::ops::Range;

/// What a password is replaced with.
const MASK: &str = "***";

/// Whether `s` is a `postgres://` or `postgresql://` URL (any case).
pub(crate) fn is_url(s: &str) -> bool {
    url_rest(s).is_some()
}

/// `s` after its `postgres://` or `postgresql://` prefix.
fn url_rest(s: &str) -> Option<&str> {
    let (scheme, rest) = s.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    (scheme == "postgres" || scheme == "postgresql").then_some(rest)
}

/// libpq's connection keywords: a string without a scheme is taken for a
/// `key=value` connection string only when it starts with one, so that a
/// file name with a `=` in it is not.
const KEYWORDS: [&str; 38] = [
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "password",
    "passfile",
    "require_auth",
    "channel_binding",
    "connect_timeout",
    "client_encoding",
    "options",
    "application_name",
    "fallback_application_name",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_count",
    "tcp_user_timeout",
    "replication",
    "gssencmode",
    "sslmode",
    "sslnegotiation",
    "sslcompression",
    "sslcert",
    "sslkey",
    "sslpassword",
    "sslcertmode",
    "sslrootcert",
    "sslcrl",
    "sslcrldir",
    "sslsni",
    "requirepeer",
    "krbsrvname",
    "gsslib",
    "service",
    "target_session_attrs",
    "load_balance_hosts",
];

/// Whether `s` is a libpq `key=value` connection string: no scheme, and
/// its first word is one of libpq's keywords followed by `=`
/// (`host=/run/postgresql dbname=app`).
pub(crate) fn is_conninfo(s: &str) -> bool {
    if s.contains("://") {
        return false;
    }
    let s = s.trim_start();
    let key_end = s
        .find(|c: char| c.is_whitespace() || c == '=')
        .unwrap_or(s.len());
    KEYWORDS.contains(&&s[..key_end]) && s[key_end..].trim_start().starts_with('=')
}

/// Whether a parameter named `key` (already percent-decoded) holds a
/// secret: `password`, and libpq's `sslpassword` with it.
fn is_secret_key(key: &str) -> bool {
    key.to_ascii_lowercase().ends_with("password")
}

/// A URL the driver would read differently from libpq: a raw `@` anywhere
/// but once before the host. The driver takes everything up to the first
/// `@` in the whole string as `user:password`, so a raw `@` in a password,
/// a path or a query would put part of it into the user name, or the host,
/// which messages show. `None` when the URL is unambiguous.
pub(crate) fn ambiguous_at(url: &str) -> Option<&'static str> {
    let rest = url_rest(url)?;
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let ats = rest.matches('@').count();
    let in_authority = rest[..authority_end].matches('@').count();
    if ats > 1 || (ats == 1 && in_authority == 0) {
        Some("a raw '@' may only end the user name and password; write any other '@' as %40")
    } else {
        None
    }
}

/// The byte ranges of `s` that hold a password, in either form. A
/// `key=value` string that cannot be parsed to its end hides everything
/// from the parameter that failed, which may be a password.
fn secret_ranges(s: &str) -> Vec<Range<usize>> {
    match url_rest(s) {
        Some(rest) => url_ranges(s, s.len() - rest.len()),
        None if is_conninfo(s) => conninfo_ranges(s),
        None => Vec::new(),
    }
}

/// [`secret_ranges`] of a URL whose part after `://` starts at `start`.
fn url_ranges(s: &str, start: usize) -> Vec<Range<usize>> {
    let mut ranges = Vec::new();
    let rest = &s[start..];
    // `user:password` up to the last '@' before the host, as libpq reads
    // it, or up to the first '@' anywhere, as the driver does.
    let authority = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
    if let Some(at) = authority.rfind('@').or_else(|| rest.find('@')) {
        if let Some(colon) = rest[..at].find(':') {
            ranges.push(start + colon + 1..start + at);
        }
    }
    // Every `?` / `&` parameter whose percent-decoded name is a secret.
    if let Some(q) = rest.find('?') {
        let mut pos = start + q + 1;
        for param in s[pos..].split('&') {
            if let Some((key, _)) = param.split_once('=') {
                if is_secret_key(&percent_decode(key)) {
                    ranges.push(pos + key.len() + 1..pos + param.len());
                }
            }
            pos += param.len() + 1;
        }
    }
    ranges
}

/// [`secret_ranges`] of a `key=value` string, read as the driver's parser
/// reads it: keywords end at white space or `=`, values are either quoted
/// (`'a b'`, with `\'` and `\\`) or end at white space, with backslash
/// escapes.
fn conninfo_ranges(s: &str) -> Vec<Range<usize>> {
    let bytes = s.as_bytes();
    let skip_ws = |mut i: usize| {
        while i < bytes.len() && (bytes[i] as char).is_ascii_whitespace() {
            i += 1;
        }
        i
    };
    let mut ranges = Vec::new();
    let mut i = skip_ws(0);
    while i < bytes.len() {
        let key_start = i;
        while i < bytes.len() && !(bytes[i] as char).is_ascii_whitespace() && bytes[i] != b'=' {
            i += 1;
        }
        let key = &s[key_start..i];
        i = skip_ws(i);
        if bytes.get(i) != Some(&b'=') {
            // Not `key=value`: what follows may be anything.
            ranges.push(key_start..s.len());
            return ranges;
        }
        i = skip_ws(i + 1);
        let value_start = i;
        let quoted = bytes.get(i) == Some(&b'\'');
        if quoted {
            i += 1;
        }
        let mut closed = !quoted;
        while i < bytes.len() {
            match bytes[i] {
                b'\\' => i += 2,
                b'\'' if quoted => {
                    i += 1;
                    closed = true;
                    break;
                }
                c if !quoted && (c as char).is_ascii_whitespace() => break,
                _ => i += 1,
            }
        }
        let value_end = i.min(s.len());
        if !closed {
            // An unterminated quote: the rest of the string is its value.
            ranges.push(key_start..s.len());
            return ranges;
        }
        if is_secret_key(key) {
            ranges.push(value_start..value_end);
        }
        i = skip_ws(value_end);
    }
    ranges
}

/// `s` with every password replaced by `***`, for messages and logs.
/// Anything that is neither a PostgreSQL URL nor a `key=value` string is
/// returned as it is.
pub(crate) fn redact(s: &str) -> String {
    let mut ranges = secret_ranges(s);
    ranges.sort_by_key(|r| r.start);
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    for r in ranges {
        if r.end <= last {
            continue;
        }
        out.push_str(&s[last..r.start.max(last)]);
        if r.start >= last {
            out.push_str(MASK);
        }
        last = r.end;
    }
    out.push_str(&s[last..]);
    out
}

/// The passwords of `s` as written (still percent-encoded or quoted), each
/// a string no message may contain.
pub(crate) fn secrets(s: &str) -> Vec<String> {
    secret_ranges(s)
        .into_iter()
        .map(|r| s[r].to_owned())
        .filter(|v| !v.is_empty())
        .collect()
}

/// `s` with `%XX` escapes decoded (lossily: a name is only compared).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_passwords_are_masked_in_every_spelling() {
        for (url, shown) in [
            (
                "postgres://ann:s3cret@db.example/wfm",
                "postgres://ann:***@db.example/wfm",
            ),
            (
                "POSTGRESQL://ann:p%40ss@db/wfm?sslmode=disable",
                "POSTGRESQL://ann:***@db/wfm?sslmode=disable",
            ),
            (
                "postgresql://ann@/wfm?host=/tmp&password=s3cret&port=5432",
                "postgresql://ann@/wfm?host=/tmp&password=***&port=5432",
            ),
            (
                "postgres:///wfm?pass%77ord=s%33cret",
                "postgres:///wfm?pass%77ord=***",
            ),
            (
                "postgres:///wfm?password=a&password=b&sslpassword=c",
                "postgres:///wfm?password=***&password=***&sslpassword=***",
            ),
            ("postgres://ann@db/wfm", "postgres://ann@db/wfm"),
            (
                "postgres://ann:p@ss@db/wfm?password=x@y",
                "postgres://ann:***@db/wfm?password=***",
            ),
        ] {
            assert_eq!(redact(url), shown, "{url}");
        }
        assert_eq!(secrets("postgres://a:p%40ss@h/d"), ["p%40ss"]);
    }

    #[test]
    fn conninfo_passwords_are_masked_quoted_or_not() {
        for (info, shown) in [
            (
                "host=/tmp dbname=wfm password=s3cret user=ann",
                "host=/tmp dbname=wfm password=*** user=ann",
            ),
            (
                "password = 'a b\\' c' dbname=wfm",
                "password = *** dbname=wfm",
            ),
            ("password=s3\\ cret dbname=x", "password=*** dbname=x"),
            ("dbname=wfm password='open", "dbname=wfm ***"),
            ("dbname=wfm junk password=x", "dbname=wfm ***"),
        ] {
            assert!(is_conninfo(info), "{info}");
            assert_eq!(redact(info), shown, "{info}");
        }
        assert_eq!(secrets("password='a b' x=y"), ["'a b'"]);
        // Not a connection string: left alone.
        assert!(!is_conninfo("wfm.sqlite"));
        assert!(!is_conninfo("a=b.sqlite"));
        assert!(!is_conninfo("sqlite://x password=y"));
        assert_eq!(redact("wfm.sqlite"), "wfm.sqlite");
        assert_eq!(redact("sqlite:///a:b@c.db"), "sqlite:///a:b@c.db");
    }

    #[test]
    fn a_raw_at_sign_the_driver_would_misread_is_found() {
        assert!(ambiguous_at("postgres://ann:p@ss@db/wfm").is_some());
        assert!(ambiguous_at("postgres:///wfm?password=a@b").is_some());
        assert!(ambiguous_at("postgres://ann:p%40ss@db/wfm").is_none());
        assert!(ambiguous_at("postgres:///wfm?host=/tmp").is_none());
    }
}
