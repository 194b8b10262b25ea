//! `--password-file FILE`: the password for the command's database,
//! read from the first line of FILE, so that it is never on a command
//! line (where `ps` shows it) nor in the environment.
//!
//! Engine-neutral: it is put into the endpoint before any engine sees it,
//! as the URL's `user:password@` (percent-encoded) or, for a PostgreSQL
//! `key=value` string, a quoted `password='…'`. An endpoint that already
//! holds a password keeps it. The endpoint is then held as every endpoint
//! is ([`crate::endpoint::Endpoint`]), which only ever shows itself
//! redacted, so the password reaches no message, log or summary.

use std::path::Path;

use anyhow::{bail, Context, Result};

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// What stays as it is in a URL's user-info: RFC 3986's unreserved
/// characters.
const USERINFO: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The first line of `path`, without its line ending.
pub fn read(path: &Path) -> Result<String> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "cannot read the --password-file {} (it must be a readable UTF-8 text file)",
            path.display()
        )
    })?;
    let line = text.lines().next().unwrap_or_default();
    if line.is_empty() {
        bail!(
            "the --password-file {} is empty: put the password on its first line",
            path.display()
        );
    }
    Ok(line.to_owned())
}

/// `endpoint` with `password` in it, unless it holds one already.
pub fn apply(endpoint: &str, password: &str) -> Result<String> {
    match endpoint.split_once("://") {
        Some((scheme, rest)) => {
            if scheme.eq_ignore_ascii_case("sqlite") {
                bail!("--password-file was given, but a sqlite:// endpoint takes no password; leave it out");
            }
            // The authority ends at the first '/', '?' or '#'; its
            // user-info at the last '@' in it.
            let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            let (authority, tail) = rest.split_at(end);
            let encoded = utf8_percent_encode(password, USERINFO).to_string();
            let authority = match authority.rfind('@') {
                Some(at) => {
                    let (userinfo, host) = authority.split_at(at);
                    if userinfo.contains(':') || has_query_password(tail) {
                        return Ok(endpoint.to_owned());
                    }
                    format!("{userinfo}:{encoded}{host}")
                }
                None if has_query_password(tail) => return Ok(endpoint.to_owned()),
                None => format!(":{encoded}@{authority}"),
            };
            Ok(format!("{scheme}://{authority}{tail}"))
        }
        None => {
            // A libpq key=value string.
            if endpoint
                .split_whitespace()
                .any(|w| w.split('=').next().is_some_and(|k| k.trim() == "password"))
            {
                return Ok(endpoint.to_owned());
            }
            let quoted = password.replace('\\', "\\\\").replace('\'', "\\'");
            Ok(format!("{endpoint} password='{quoted}'"))
        }
    }
}

/// Whether a URL's path-and-query has a `password=` parameter (libpq's
/// URIs take one), its name perhaps percent-encoded.
fn has_query_password(tail: &str) -> bool {
    let Some((_, query)) = tail.split_once('?') else {
        return false;
    };
    query.split('&').any(|pair| {
        let name = pair.split('=').next().unwrap_or_default();
        percent_encoding::percent_decode_str(name)
            .decode_utf8_lossy()
            .eq_ignore_ascii_case("password")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_goes_into_the_user_info() {
        let pw = "p@ss w:rd/'%";
        let enc = "p%40ss%20w%3Ard%2F%27%25";
        for (endpoint, want) in [
            (
                "postgres://app@db.example:5432/wfm".to_owned(),
                format!("postgres://app:{enc}@db.example:5432/wfm"),
            ),
            (
                "postgresql://app@/wfm?host=/run/postgresql".to_owned(),
                format!("postgresql://app:{enc}@/wfm?host=/run/postgresql"),
            ),
            (
                "mssql://sa@127.0.0.1:1433/brutest?encrypt=off".to_owned(),
                format!("mssql://sa:{enc}@127.0.0.1:1433/brutest?encrypt=off"),
            ),
            (
                "mssql://d%40m@h/db".to_owned(),
                format!("mssql://d%40m:{enc}@h/db"),
            ),
            (
                "postgres://db.example/wfm".to_owned(),
                format!("postgres://:{enc}@db.example/wfm"),
            ),
        ] {
            assert_eq!(apply(&endpoint, pw).unwrap(), want, "{endpoint}");
        }
    }

    #[test]
    fn a_password_already_given_is_kept() {
        for endpoint in [
            "postgres://app:mine@h/db",
            "postgres://app@/db?host=/tmp&password=mine",
            "postgres://app@/db?host=/tmp&pass%77ord=mine",
            "mssql://sa:mine@h/db",
            "host=/tmp password=mine dbname=db",
            "host=/tmp password = mine dbname=db",
        ] {
            assert_eq!(apply(endpoint, "other").unwrap(), endpoint);
        }
    }

    #[test]
    fn key_value_strings_get_a_quoted_password() {
        assert_eq!(
            apply("host=/tmp user=app dbname=wfm", r"it's \x").unwrap(),
            r"host=/tmp user=app dbname=wfm password='it\'s \\x'"
        );
    }

    #[test]
    fn sqlite_takes_none_and_files_are_read_to_the_first_line() {
        assert!(apply("sqlite:///tmp/x.db", "pw").is_err());
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("pw");
        std::fs::write(&f, "s3cret\r\nsecond line\n").unwrap();
        assert_eq!(read(&f).unwrap(), "s3cret");
        std::fs::write(&f, "\n").unwrap();
        let e = read(&f).unwrap_err().to_string();
        assert!(e.contains("empty"), "{e}");
        let e = read(&dir.path().join("missing")).unwrap_err().to_string();
        assert!(e.contains("cannot read the --password-file"), "{e}");
    }
}
