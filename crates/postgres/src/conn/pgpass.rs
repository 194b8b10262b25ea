//! The libpq password file (`~/.pgpass`, or `PGPASSFILE`).
//!
//! Each line is `hostname:port:database:username:password`; `*` matches
//! anything, `\:` and `\\` escape. The first matching line wins. As libpq
//! does, a file that others can read is ignored, and `localhost` also
//! matches a connection through the default Unix socket directory.

use std::path::PathBuf;

use super::defaults::is_default_socket_dir;

/// The password for this connection, if the password file has one.
pub(crate) fn lookup(host: &str, port: u16, db: &str, user: &str) -> Option<String> {
    let path = match std::env::var_os("PGPASSFILE") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from(std::env::var_os("HOME")?).join(".pgpass"),
    };
    let meta = std::fs::metadata(&path).ok()?;
    if !meta.is_file() || group_or_world_readable(&meta) {
        return None;
    }
    let text = std::fs::read_to_string(&path).ok()?;
    find(&text, host, port, db, user)
}

#[cfg(unix)]
fn group_or_world_readable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o077 != 0
}

#[cfg(not(unix))]
fn group_or_world_readable(_: &std::fs::Metadata) -> bool {
    false
}

/// The password from the first line of `text` that matches.
pub(crate) fn find(text: &str, host: &str, port: u16, db: &str, user: &str) -> Option<String> {
    let port = port.to_string();
    let socket = is_default_socket_dir(host);
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let fields = split(line);
        if fields.len() < 5 {
            continue;
        }
        let host_ok = fields[0] == "*" || fields[0] == host || (socket && fields[0] == "localhost");
        let matches = |f: &str, v: &str| f == "*" || f == v;
        if host_ok
            && matches(&fields[1], &port)
            && matches(&fields[2], db)
            && matches(&fields[3], user)
        {
            return Some(fields[4..].join(":"));
        }
    }
    None
}

/// Splits a line on unescaped colons, removing the escapes.
fn split(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let (Some(next), Some(f)) = (chars.next(), fields.last_mut()) {
                    f.push(next);
                }
            }
            ':' => fields.push(String::new()),
            c => {
                if let Some(f) = fields.last_mut() {
                    f.push(c)
                }
            }
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_match_wins_with_wildcards_and_escapes() {
        let text = "# comment\n\
                    otherhost:5432:*:bob:nope\n\
                    db1.example:*:sales:bob:pa\\:ss\\\\word\n\
                    *:*:*:bob:fallback\n";
        assert_eq!(
            find(text, "db1.example", 6543, "sales", "bob").as_deref(),
            Some("pa:ss\\word")
        );
        assert_eq!(
            find(text, "db2", 5432, "x", "bob").as_deref(),
            Some("fallback")
        );
        assert_eq!(find(text, "db2", 5432, "x", "alice"), None);
    }

    #[test]
    fn localhost_matches_the_default_socket_directory() {
        let text = "localhost:5432:app:bob:sock\n";
        assert_eq!(
            find(text, "/var/run/postgresql", 5432, "app", "bob").as_deref(),
            Some("sock")
        );
        assert_eq!(find(text, "/tmp/elsewhere", 5432, "app", "bob"), None);
    }
}
