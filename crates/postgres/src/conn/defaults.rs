//! libpq's compiled-in defaults that both the settings resolution and the
//! password file apply: the Unix socket directories a connection without a
//! host goes through. A leaf module, so that [`super::settings`] and
//! [`super::pgpass`] share them without depending on each other.

/// Where the default Unix socket lives when neither the URL nor `PGHOST`
/// names a host: Debian's libpq default, then the upstream one.
pub(crate) const DEFAULT_SOCKET_DIRS: [&str; 2] = ["/var/run/postgresql", "/tmp"];

/// The default socket directory, where `localhost` entries of the password
/// file also apply (libpq's rule).
pub(crate) fn is_default_socket_dir(host: &str) -> bool {
    DEFAULT_SOCKET_DIRS.contains(&host.trim_end_matches('/'))
}
