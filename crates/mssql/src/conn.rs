//! Connections (skeleton: filled in by the connection work).

/// `url` with its password masked.
pub fn redact(url: &str) -> String {
    bru_core::registry::redact_userinfo(url)
}
