//! Keys for encrypted archives, from the command line (README, "Encrypted
//! archives"): `--key-file` / `--identity` (age identity files) and the
//! passphrase (`BRU_PASSPHRASE`, or typed on a terminal without echo) for
//! reading; `--recipient`, `--key-file` or the passphrase for
//! `backup --encrypt`.
//!
//! The passphrase is never echoed, printed, logged or put into a summary:
//! it goes from the environment or the terminal straight into a
//! [`SecretString`] that only age's KDF reads.

use std::io::IsTerminal;
use std::path::Path;

use anyhow::{bail, Context, Result};
use bru_format::keys::{ExposeSecret, SecretString};
use bru_format::{Keys, Lock, Seal};

use crate::args::{BackupArgs, Global, KeygenArgs};

/// The environment variable that holds the passphrase.
pub const PASSPHRASE_ENV: &str = "BRU_PASSPHRASE";

/// Installs the keys the flags give, for every archive this run opens.
pub fn install(global: &Global) -> Result<()> {
    let mut keys = Keys::none();
    for file in global.key_file.iter().chain(&global.identity) {
        keys.add_identity_file(file).map_err(anyhow::Error::msg)?;
    }
    if let Some(p) = passphrase_from_env()? {
        keys.set_passphrase(p);
    } else if std::io::stdin().is_terminal() {
        keys.set_prompt(Box::new(|| {
            rpassword::prompt_password("Passphrase of the archive: ")
                .ok()
                .filter(|p| !p.is_empty())
                .map(SecretString::from)
        }));
    }
    bru_format::keys::install(keys);
    Ok(())
}

/// The passphrase in [`PASSPHRASE_ENV`], if set. An empty one is refused.
fn passphrase_from_env() -> Result<Option<SecretString>> {
    match std::env::var(PASSPHRASE_ENV) {
        Ok(p) if p.is_empty() => {
            bail!("{PASSPHRASE_ENV} is set but empty; set a passphrase or unset it")
        }
        Ok(p) => Ok(Some(SecretString::from(p))),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => bail!("{PASSPHRASE_ENV} is not valid UTF-8"),
    }
}

/// How `bru backup` encrypts, or `None` without `--encrypt`
/// (`--encrypt-data-only` and `--recipient` imply it): for the recipients
/// of `--recipient` and `--key-file`, else for the passphrase.
pub fn seal(a: &BackupArgs, global: &Global) -> Result<Option<Seal>> {
    if !(a.encrypt || a.encrypt_data_only || !a.recipient.is_empty()) {
        return Ok(None);
    }
    let mut recipients = Vec::new();
    for r in &a.recipient {
        recipients.push(Lock::recipient(r).map_err(anyhow::Error::msg)?);
    }
    for file in &global.key_file {
        recipients.extend(Lock::recipients_of_identity_file(file).map_err(anyhow::Error::msg)?);
    }
    let lock = if !recipients.is_empty() {
        Lock::Recipients(recipients)
    } else if let Some(p) = passphrase_from_env()? {
        Lock::Passphrase(p)
    } else if std::io::stdin().is_terminal() {
        Lock::Passphrase(ask_new_passphrase()?)
    } else {
        bail!(
            "--encrypt needs a key: --recipient age1…, --key-file FILE (an age identity file, \
             see bru keygen) or a passphrase in {PASSPHRASE_ENV}"
        );
    };
    Ok(Some(Seal {
        lock,
        data_only: a.encrypt_data_only,
    }))
}

/// A new passphrase, typed twice on the terminal.
fn ask_new_passphrase() -> Result<SecretString> {
    let read = |prompt: &str| {
        rpassword::prompt_password(prompt).context(
            "cannot read the passphrase from the terminal; set BRU_PASSPHRASE or use --recipient",
        )
    };
    let first = SecretString::from(read("Passphrase for the new archive: ")?);
    if first.expose_secret().is_empty() {
        bail!("no passphrase was typed");
    }
    let again = SecretString::from(read("The same passphrase again: ")?);
    if first.expose_secret() != again.expose_secret() {
        bail!("the two passphrases differ; nothing was written");
    }
    Ok(first)
}

/// `bru keygen FILE`: writes a new age identity file (mode 0600) and
/// returns its recipient.
pub fn keygen(a: &KeygenArgs) -> Result<String> {
    let (identity, recipient) = bru_format::keys::generate_identity();
    let text = format!(
        "# bru key file: keep it away from the archives (bru keygen)\n# recipient: {recipient}\n{}\n",
        identity.expose_secret()
    );
    write_private(&a.file, text.as_bytes(), a.force)
        .with_context(|| format!("cannot write the key file {}", a.file.display()))?;
    Ok(recipient)
}

fn write_private(path: &Path, bytes: &[u8], force: bool) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}
