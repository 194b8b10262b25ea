//! The authenticated encryption of an encrypted archive (FORMAT.md,
//! "Encrypted archives"): the subkeys derived from the archive's data key,
//! and the sealing of chunks and of the catalog with XChaCha20-Poly1305.
//!
//! Every sealed blob is `nonce (24 bytes) ‖ ciphertext ‖ tag (16 bytes)`
//! with a fresh random nonce, so no nonce repeats under one key (the
//! birthday bound of a 192-bit nonce is far beyond any archive). The
//! associated data binds a chunk to its archive (the archive id), its table
//! (its catalog id), its position (its sequence number) and the row count
//! and body length its clear row declares: a chunk moved to another table or
//! position, replayed from another archive or with an edited row fails its
//! tag. The catalog's associated data binds it to the archive id and the
//! format version.
//!
//! Pure functions of their inputs but for the random nonce, so a
//! known-answer test pins the scheme (see the tests below and FORMAT.md).

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

/// The length of an archive's random data key.
pub const DATA_KEY_LEN: usize = 32;

/// The nonce that starts every sealed blob.
pub const NONCE_LEN: usize = 24;

/// The Poly1305 tag that ends every sealed blob.
pub const TAG_LEN: usize = 16;

/// What sealing adds to a blob: its nonce and its tag.
pub const SEAL_OVERHEAD: usize = NONCE_LEN + TAG_LEN;

/// HKDF-SHA256 `info` of the key that seals chunks.
pub const CHUNK_KEY_INFO: &[u8] = b"bru archive v3 chunk key";

/// HKDF-SHA256 `info` of the key that seals the catalog.
pub const CATALOG_KEY_INFO: &[u8] = b"bru archive v3 catalog key";

/// The first bytes of a chunk's associated data.
pub const CHUNK_DOMAIN: &[u8] = b"bru chunk\0";

/// The first bytes of the catalog's associated data.
pub const CATALOG_DOMAIN: &[u8] = b"bru catalog\0";

/// An archive's random data key, wiped from memory when dropped.
pub type DataKey = Zeroizing<[u8; DATA_KEY_LEN]>;

/// A fresh random data key.
pub fn new_data_key() -> Result<DataKey, String> {
    let mut key = Zeroizing::new([0u8; DATA_KEY_LEN]);
    getrandom::fill(key.as_mut()).map_err(|e| format!("no random numbers: {e}"))?;
    Ok(key)
}

/// Where a chunk sits, as its associated data records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkPlace {
    /// `bru_chunks.table_id`.
    pub table: i64,
    /// `bru_chunks.seq`.
    pub seq: u64,
    /// `bru_chunks.row_count`.
    pub rows: u64,
    /// `bru_chunks.raw_len`.
    pub raw_len: u64,
}

/// Seals and opens the chunks and the catalog of one archive.
pub struct Sealer {
    chunk: XChaCha20Poly1305,
    catalog: XChaCha20Poly1305,
    archive_id: [u8; 16],
    version: u32,
}

impl Sealer {
    /// The sealer of the archive whose data key is `key`, whose `archive_id`
    /// is 32 hex digits and whose format version is `version`. Fails if the
    /// archive id is not 32 hex digits.
    pub fn new(key: &[u8; DATA_KEY_LEN], archive_id: &str, version: u32) -> Result<Self, String> {
        let archive_id = parse_archive_id(archive_id)?;
        let hkdf = Hkdf::<Sha256>::new(None, key);
        let subkey = |info: &[u8]| {
            let mut k = Zeroizing::new([0u8; 32]);
            hkdf.expand(info, k.as_mut())
                .expect("32 bytes is a valid HKDF-SHA256 length");
            XChaCha20Poly1305::new_from_slice(k.as_ref()).expect("the key is 32 bytes")
        };
        Ok(Sealer {
            chunk: subkey(CHUNK_KEY_INFO),
            catalog: subkey(CATALOG_KEY_INFO),
            archive_id,
            version,
        })
    }

    /// The associated data of the chunk at `place`: the domain, the format
    /// version (u32 LE), the archive id (16 bytes), then table id (i64 LE),
    /// sequence number, row count and body length (u64 LE each).
    pub fn chunk_aad(&self, place: ChunkPlace) -> Vec<u8> {
        let mut aad = Vec::with_capacity(CHUNK_DOMAIN.len() + 4 + 16 + 32);
        aad.extend_from_slice(CHUNK_DOMAIN);
        aad.extend_from_slice(&self.version.to_le_bytes());
        aad.extend_from_slice(&self.archive_id);
        aad.extend_from_slice(&place.table.to_le_bytes());
        aad.extend_from_slice(&place.seq.to_le_bytes());
        aad.extend_from_slice(&place.rows.to_le_bytes());
        aad.extend_from_slice(&place.raw_len.to_le_bytes());
        aad
    }

    /// The associated data of the catalog: the domain, the format version
    /// (u32 LE) and the archive id (16 bytes).
    pub fn catalog_aad(&self) -> Vec<u8> {
        let mut aad = Vec::with_capacity(CATALOG_DOMAIN.len() + 4 + 16);
        aad.extend_from_slice(CATALOG_DOMAIN);
        aad.extend_from_slice(&self.version.to_le_bytes());
        aad.extend_from_slice(&self.archive_id);
        aad
    }

    /// Seals a chunk's compressed bytes for `place` with a random nonce.
    pub fn seal_chunk(&self, place: ChunkPlace, compressed: &[u8]) -> Result<Vec<u8>, String> {
        seal(
            &self.chunk,
            &random_nonce()?,
            &self.chunk_aad(place),
            compressed,
        )
    }

    /// The compressed bytes of a chunk sealed for `place`, or `None` when
    /// its tag does not match (the bytes, the place or the key differ).
    pub fn open_chunk(&self, place: ChunkPlace, stored: &[u8]) -> Option<Vec<u8>> {
        open(&self.chunk, &self.chunk_aad(place), stored)
    }

    /// Seals the catalog's bytes with a random nonce.
    pub fn seal_catalog(&self, plain: &[u8]) -> Result<Vec<u8>, String> {
        seal(&self.catalog, &random_nonce()?, &self.catalog_aad(), plain)
    }

    /// The catalog's bytes, or `None` when its tag does not match.
    pub fn open_catalog(&self, stored: &[u8]) -> Option<Vec<u8>> {
        open(&self.catalog, &self.catalog_aad(), stored)
    }

    /// [`Sealer::seal_chunk`] with a given nonce, for the known-answer test.
    #[cfg(test)]
    fn seal_chunk_with(&self, nonce: &[u8; NONCE_LEN], place: ChunkPlace, data: &[u8]) -> Vec<u8> {
        seal(&self.chunk, nonce, &self.chunk_aad(place), data).unwrap()
    }
}

/// The 16 bytes of an archive id of 32 hex digits.
pub fn parse_archive_id(id: &str) -> Result<[u8; 16], String> {
    let bad = || format!("invalid archive_id {id:?} (an encrypted archive needs 32 hex digits)");
    if id.len() != 32 || !id.is_ascii() {
        return Err(bad());
    }
    let mut out = [0u8; 16];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&id[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
    }
    Ok(out)
}

fn random_nonce() -> Result<[u8; NONCE_LEN], String> {
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce).map_err(|e| format!("no random numbers: {e}"))?;
    Ok(nonce)
}

fn seal(
    cipher: &XChaCha20Poly1305,
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    plain: &[u8],
) -> Result<Vec<u8>, String> {
    let sealed = cipher
        .encrypt(&XNonce::from(*nonce), Payload { msg: plain, aad })
        .map_err(|_| "the blob is too long to encrypt".to_string())?;
    let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
    out.extend_from_slice(nonce);
    out.extend_from_slice(&sealed);
    Ok(out)
}

fn open(cipher: &XChaCha20Poly1305, aad: &[u8], stored: &[u8]) -> Option<Vec<u8>> {
    if stored.len() < SEAL_OVERHEAD {
        return None;
    }
    let (nonce, sealed) = stored.split_at(NONCE_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
    cipher
        .decrypt(&XNonce::from(nonce), Payload { msg: sealed, aad })
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The known answer FORMAT.md ("Known answer") gives: data key 00 01 … 1f,
    /// archive id 00112233445566778899aabbccddeeff, version 3, table 1,
    /// chunk 2, 3 rows, body length 17, nonce 24 bytes of 0x42, and the
    /// chunk's stored (compressed) bytes the ASCII text `bru chunk body`.
    #[test]
    fn a_chunk_sealed_with_fixed_keys_gives_the_documented_bytes() {
        let key: [u8; 32] = std::array::from_fn(|i| i as u8);
        let sealer = Sealer::new(&key, "00112233445566778899aabbccddeeff", 3).unwrap();
        let place = ChunkPlace {
            table: 1,
            seq: 2,
            rows: 3,
            raw_len: 17,
        };
        assert_eq!(
            hex(&sealer.chunk_aad(place)),
            "6272752063687 56e6b000300000000112233445566778899aabbccddeeff\
             0100000000000000020000000000000003000000000000001100000000000000"
                .replace(' ', "")
        );
        let sealed = sealer.seal_chunk_with(&[0x42; 24], place, b"bru chunk body");
        assert_eq!(hex(&sealed), KNOWN_SEALED_CHUNK);
        assert_eq!(
            sealer.open_chunk(place, &sealed).as_deref(),
            Some(&b"bru chunk body"[..])
        );
    }

    const KNOWN_SEALED_CHUNK: &str = "4242424242424242424242424242424242424242424242420279c1093ce330789998fc5cd956c760fa351b8b4498371260d1233d0259";

    #[test]
    fn a_chunk_opens_only_at_its_place_in_its_archive_with_its_key() {
        let key = new_data_key().unwrap();
        let id = "0123456789abcdef0123456789abcdef";
        let sealer = Sealer::new(&key, id, 3).unwrap();
        let place = ChunkPlace {
            table: 0,
            seq: 0,
            rows: 10,
            raw_len: 100,
        };
        let sealed = sealer.seal_chunk(place, b"compressed").unwrap();
        assert_eq!(
            sealer.open_chunk(place, &sealed).as_deref(),
            Some(&b"compressed"[..])
        );
        for other in [
            ChunkPlace { table: 1, ..place },
            ChunkPlace { seq: 1, ..place },
            ChunkPlace { rows: 11, ..place },
            ChunkPlace {
                raw_len: 101,
                ..place
            },
        ] {
            assert!(sealer.open_chunk(other, &sealed).is_none(), "{other:?}");
        }
        let other_archive = Sealer::new(&key, "f123456789abcdef0123456789abcdef", 3).unwrap();
        assert!(other_archive.open_chunk(place, &sealed).is_none());
        let other_key = Sealer::new(&new_data_key().unwrap(), id, 3).unwrap();
        assert!(other_key.open_chunk(place, &sealed).is_none());
        let mut flipped = sealed.clone();
        flipped[30] ^= 1;
        assert!(sealer.open_chunk(place, &flipped).is_none());
        assert!(sealer
            .open_chunk(place, &sealed[..sealed.len() - 1])
            .is_none());
        assert!(sealer.open_chunk(place, &sealed[..10]).is_none());
        // The catalog key is not the chunk key.
        assert!(sealer.open_catalog(&sealed).is_none());
        let catalog = sealer.seal_catalog(b"catalog").unwrap();
        assert_eq!(
            sealer.open_catalog(&catalog).as_deref(),
            Some(&b"catalog"[..])
        );
        assert!(other_archive.open_catalog(&catalog).is_none());
    }
}
