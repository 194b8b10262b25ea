//! Who may open an encrypted archive: the key envelope (FORMAT.md,
//! "Encrypted archives").
//!
//! An encrypted archive's random data key is stored in its clear metadata
//! as an **age** file (<https://age-encryption.org/v1>) whose plaintext is
//! the 32 key bytes: encrypted to one or more X25519 recipients (`age1…`),
//! or to a passphrase through age's scrypt recipient. age does the key
//! wrapping, the memory-hard KDF and the header MAC; bru only stores the
//! result, so any age implementation can unwrap the key.
//!
//! A [`Lock`] is what a backup seals the data key with; [`Keys`] is what a
//! reader offers to open it. A process installs its keys once
//! ([`install`], the CLI does so from its flags), and every
//! [`crate::ArchiveReader::open`] in it tries them on an encrypted archive,
//! like an agent: the engine opens archives by path in many places (each
//! restore session opens its own reader), and none of them needs to know
//! about keys. An unwrapped data key is kept for the archive's envelope, so
//! the passphrase's KDF runs once per process.

use std::io::Read;
use std::path::Path;
use std::sync::{Mutex, OnceLock};

pub use age::secrecy::{ExposeSecret, SecretString};

use crate::crypt::{DataKey, DATA_KEY_LEN};
use crate::error::Error;

/// `bru_meta.key_kind` of an envelope for age recipients (X25519 or
/// post-quantum).
pub const KIND_RECIPIENTS: &str = "age-recipients";

/// `bru_meta.key_kind` of an envelope for a passphrase (age's scrypt).
pub const KIND_PASSPHRASE: &str = "age-scrypt";

/// What a backup seals its data key with.
pub enum Lock {
    /// Public keys: the backup host needs no secret to write the archive.
    Recipients(Vec<Box<dyn age::Recipient + Send>>),
    /// A passphrase, stretched by age's scrypt.
    Passphrase(SecretString),
}

impl std::fmt::Debug for Lock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Lock::Recipients(r) => write!(f, "Lock::Recipients({} recipients)", r.len()),
            Lock::Passphrase(_) => f.write_str("Lock::Passphrase(..)"),
        }
    }
}

impl Lock {
    /// Parses an age recipient: post-quantum (`age1pq1…`) or X25519
    /// (`age1…`).
    pub fn recipient(text: &str) -> Result<Box<dyn age::Recipient + Send>, String> {
        let text = text.trim();
        if let Ok(r) = text.parse::<age::pq::Recipient>() {
            return Ok(Box::new(r));
        }
        // age deprecates X25519 for new keys (not safe against a future
        // quantum computer) but it is what most age keys are.
        #[allow(deprecated)]
        let classic = text.parse::<age::x25519::Recipient>();
        classic
            .map(|r| Box::new(r) as Box<dyn age::Recipient + Send>)
            .map_err(|e| format!("{text:?} is not an age recipient (age1…): {e}"))
    }

    /// The recipients of the identities in an age identity file
    /// (`AGE-SECRET-KEY-1…` lines), so that the file that decrypts an
    /// archive can also be the one it is encrypted to.
    pub fn recipients_of_identity_file(
        path: &Path,
    ) -> Result<Vec<Box<dyn age::Recipient + Send>>, String> {
        identity_file(path)?
            .to_recipients()
            .map_err(|e| format!("key file {}: {e}", path.display()))
    }

    /// `bru_meta.key_kind` for this lock.
    pub fn kind(&self) -> &'static str {
        match self {
            Lock::Recipients(_) => KIND_RECIPIENTS,
            Lock::Passphrase(_) => KIND_PASSPHRASE,
        }
    }

    /// The key envelope: `key` encrypted as an age file.
    pub(crate) fn wrap(&self, key: &DataKey) -> Result<Vec<u8>, String> {
        let encryptor = match self {
            Lock::Recipients(list) => {
                age::Encryptor::with_recipients(list.iter().map(|r| r.as_ref() as _))
                    .map_err(|e| format!("cannot encrypt the data key: {e}"))?
            }
            Lock::Passphrase(p) => age::Encryptor::with_user_passphrase(p.clone()),
        };
        let mut out = Vec::new();
        let mut writer = encryptor
            .wrap_output(&mut out)
            .map_err(|e| format!("cannot encrypt the data key: {e}"))?;
        std::io::Write::write_all(&mut writer, key.as_ref())
            .and_then(|()| writer.finish().map(|_| ()))
            .map_err(|e| format!("cannot encrypt the data key: {e}"))?;
        Ok(out)
    }
}

/// A new age identity: its `AGE-SECRET-KEY-1…` line and its recipient
/// (`age1…`). X25519, the kind every age tool reads (see
/// [`Lock::recipient`]).
pub fn generate_identity() -> (SecretString, String) {
    #[allow(deprecated)]
    let identity = age::x25519::Identity::generate();
    let recipient = identity.to_public().to_string();
    (identity.to_string(), recipient)
}

/// Reads an age identity file (one `AGE-SECRET-KEY-1…` per line, `#`
/// comments).
fn identity_file(path: &Path) -> Result<age::IdentityFile<age::NoCallbacks>, String> {
    age::IdentityFile::from_file(path.to_string_lossy().into_owned()).map_err(|e| {
        format!(
            "key file {}: {}",
            path.display(),
            match e.kind() {
                std::io::ErrorKind::NotFound => "no such file".to_string(),
                _ => e.to_string(),
            }
        )
    })
}

/// Asks for a passphrase when an archive needs one and none was given.
pub type Prompt = Box<dyn Fn() -> Option<SecretString> + Send + Sync>;

/// What a reader offers to open an encrypted archive's key envelope.
#[derive(Default)]
pub struct Keys {
    identities: Vec<Box<dyn age::Identity + Send + Sync>>,
    passphrase: Option<SecretString>,
    prompt: Option<Prompt>,
    /// Data keys already unwrapped, by envelope.
    opened: Mutex<Vec<(Vec<u8>, DataKey)>>,
}

impl Keys {
    /// No keys: an encrypted archive opens to its clear metadata only.
    pub fn none() -> Keys {
        Keys::default()
    }

    /// Adds the identities of an age identity file (`--key-file`,
    /// `--identity`). Fails if it cannot be read or holds no identity.
    pub fn add_identity_file(&mut self, path: &Path) -> Result<(), String> {
        let found = identity_file(path)?
            .into_identities()
            .map_err(|e| format!("key file {}: {e}", path.display()))?;
        if found.is_empty() {
            return Err(format!(
                "key file {} holds no age identity (AGE-SECRET-KEY-1…)",
                path.display()
            ));
        }
        self.identities.extend(found);
        Ok(())
    }

    /// Offers a passphrase for envelopes sealed with one.
    pub fn set_passphrase(&mut self, passphrase: SecretString) {
        self.passphrase = Some(passphrase);
    }

    /// Asks `prompt` for a passphrase, once, when an envelope needs one and
    /// none was set.
    pub fn set_prompt(&mut self, prompt: Prompt) {
        self.prompt = Some(prompt);
    }

    /// The data key inside `envelope`, the key envelope of the archive at
    /// `path`.
    ///
    /// Fails with [`Error::Locked`] when no key of the envelope's kind was
    /// offered, [`Error::WrongKey`] when none offered opens it, and
    /// [`Error::Damaged`] when it is not a valid envelope.
    pub(crate) fn unwrap(&self, path: &Path, envelope: &[u8]) -> Result<DataKey, Error> {
        let mut opened = self.opened.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, key)) = opened.iter().find(|(e, _)| e == envelope) {
            return Ok(key.clone());
        }
        let damaged = |e: String| Error::Damaged {
            path: path.to_path_buf(),
            message: format!("its key envelope is not an age file: {e}"),
        };
        let decryptor =
            age::Decryptor::new_buffered(envelope).map_err(|e| damaged(e.to_string()))?;
        let result = if decryptor.is_scrypt() {
            let passphrase = match (&self.passphrase, &self.prompt) {
                (Some(p), _) => p.clone(),
                (None, Some(prompt)) => prompt().ok_or_else(|| Error::Locked {
                    path: path.to_path_buf(),
                    needs: "a passphrase (BRU_PASSPHRASE, or a terminal to type it on)",
                })?,
                (None, None) => {
                    return Err(Error::Locked {
                        path: path.to_path_buf(),
                        needs: "a passphrase (BRU_PASSPHRASE, or a terminal to type it on)",
                    })
                }
            };
            let identity = age::scrypt::Identity::new(passphrase);
            decryptor.decrypt(std::iter::once(&identity as &dyn age::Identity))
        } else {
            if self.identities.is_empty() {
                return Err(Error::Locked {
                    path: path.to_path_buf(),
                    needs: "--key-file or --identity with an age identity of one of its recipients",
                });
            }
            decryptor.decrypt(
                self.identities
                    .iter()
                    .map(|i| i.as_ref() as &dyn age::Identity),
            )
        };
        let mut reader = match result {
            Ok(r) => r,
            Err(age::DecryptError::NoMatchingKeys | age::DecryptError::DecryptionFailed) => {
                return Err(Error::WrongKey {
                    path: path.to_path_buf(),
                })
            }
            Err(e) => return Err(damaged(e.to_string())),
        };
        let mut key = zeroize::Zeroizing::new(Vec::with_capacity(DATA_KEY_LEN + 1));
        reader
            .by_ref()
            .take(DATA_KEY_LEN as u64 + 1)
            .read_to_end(&mut key)
            .map_err(|e| damaged(e.to_string()))?;
        let key: [u8; DATA_KEY_LEN] = key.as_slice().try_into().map_err(|_| Error::Damaged {
            path: path.to_path_buf(),
            message: format!(
                "its key envelope holds {} bytes, not a {DATA_KEY_LEN}-byte key",
                key.len()
            ),
        })?;
        let key = zeroize::Zeroizing::new(key);
        opened.push((envelope.to_vec(), key.clone()));
        Ok(key)
    }
}

static INSTALLED: OnceLock<Keys> = OnceLock::new();
static NO_KEYS: OnceLock<Keys> = OnceLock::new();

/// Makes `keys` the ones every [`crate::ArchiveReader::open`] of this
/// process offers. Only the first call counts; returns whether it did.
pub fn install(keys: Keys) -> bool {
    INSTALLED.set(keys).is_ok()
}

/// The keys [`install`] set, or none.
pub(crate) fn installed() -> &'static Keys {
    INSTALLED
        .get()
        .unwrap_or_else(|| NO_KEYS.get_or_init(Keys::none))
}
