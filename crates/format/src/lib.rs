//! The bru archive container (specified in FORMAT.md at the repository root).
//!
//! An archive is one SQLite 3 file holding a metadata table, the catalog
//! (table definitions and other objects as JSON) and the chunks: bounded
//! slices of one table's rows, encoded column by column ([`codec`]),
//! compressed with zstd and guarded by a CRC32.
//!
//! This crate knows nothing about database engines: it stores
//! [`bru_core`] values and definitions only.
//!
//! Writing: [`ArchiveWriter::create`] makes the file in state `in_progress`;
//! only [`ArchiveWriter::finish`] marks it `complete`, in the final commit, so
//! a backup killed at any point leaves an archive that readers see as
//! incomplete. Dropping a writer without finishing leaves it incomplete too.
//!
//! Encrypting: [`ArchiveWriter::create_sealed`] with a [`Seal`] seals every
//! chunk and the catalog with keys derived from a random data key, itself
//! sealed for age recipients or a passphrase (module [`keys`]); readers
//! open such an archive with the [`Keys`] the process installed
//! ([`keys::install`]) and refuse any chunk or catalog that fails
//! authentication (module [`crypt`]).
//!
//! Reading: [`ArchiveReader::open`] checks that the file is a bru archive of a
//! supported version and holds plain tables only; every chunk read is checked
//! (CRC, declared lengths against the archive's [`ChunkLimits`]) before it is
//! decompressed, and decoding never allocates more than a real chunk of that
//! archive needs, whatever the bytes claim.

pub mod codec;
mod container;
pub mod crypt;
mod error;
pub mod keys;
mod meta;
mod reader;
mod sealed;
mod state;
mod writer;

pub use codec::{decode_chunk, encode_chunk, EncodedChunk, MAX_RAW_LEN};
pub use container::{APPLICATION_ID, DEFAULT_PART_LEN, MAX_PART_LEN, MAX_STORED_LEN, PAGE_SIZE};
pub use container::{MAX_CATALOG_BYTES, MAX_CATALOG_ENTRIES, MAX_COLUMNS, MAX_VALUE_READ};
pub use error::{Error, Result};
pub use keys::{Keys, Lock};
pub use meta::{
    ArchiveMeta, ArchiveState, ChunkLimits, DeltaInfo, Encryption, TableId, TableTotals,
    DEFAULT_CHUNK_BYTES, DEFAULT_COMPRESS_LEVEL, DELTA_FORMAT_VERSION, ENCRYPTED_FORMAT_VERSION,
    FORMAT_VERSION, MAX_CHUNK_BYTES, MAX_VALUE_BYTES,
};
pub use reader::{ArchiveReader, ChunkIter, StoredChunk, TableEntry};
pub use sealed::Seal;
pub use state::{Change, DeltaTable, StoredState};
pub use writer::{ArchiveWriter, WriterOptions, COMMIT_BYTES};
