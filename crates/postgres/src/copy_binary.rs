//! The framing of PostgreSQL's binary COPY format, with no I/O.
//!
//! A stream is a fixed header (signature, flags, extension area), then one
//! tuple per row (a 16-bit field count, then per field a 32-bit length, -1
//! for NULL, and the bytes), then a trailer (field count -1). The reader
//! takes the stream in whatever pieces the connection delivers and hands out
//! whole tuples; every read checks the remaining length first, so a
//! truncated or malformed stream is an error, never a panic or a huge
//! allocation. Shaped after tokio-postgres's `binary_copy.rs`.

use bytes::{Buf, BufMut, BytesMut};

/// The 11-byte signature that starts every binary COPY stream.
pub(crate) const MAGIC: &[u8] = b"PGCOPY\n\xff\r\n\0";
const HEADER_LEN: usize = MAGIC.len() + 4 + 4;

/// Writes the stream header (no flags, no extension).
pub(crate) fn write_header(out: &mut BytesMut) {
    out.put_slice(MAGIC);
    out.put_i32(0);
    out.put_i32(0);
}

/// Writes the stream trailer.
pub(crate) fn write_trailer(out: &mut BytesMut) {
    out.put_i16(-1);
}

/// Incremental reader of a binary COPY stream.
#[derive(Default)]
pub(crate) struct CopyReader {
    buf: BytesMut,
    header_read: bool,
    done: bool,
}

/// What [`CopyReader::next_tuple`] found.
pub(crate) enum Next {
    /// A tuple was handed to the callback.
    Tuple,
    /// More bytes are needed.
    NeedMore,
    /// The trailer: the stream is complete.
    End,
}

impl CopyReader {
    /// Appends bytes received from the server.
    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// True once the trailer was read.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Bytes received but not consumed yet.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// Reads the next tuple if it has arrived in full, calling `field` with
    /// each field's index and bytes (`None` for NULL). `expected` is the
    /// number of fields each tuple must have.
    pub fn next_tuple(
        &mut self,
        expected: usize,
        mut field: impl FnMut(usize, Option<&[u8]>) -> Result<(), String>,
    ) -> Result<Next, String> {
        if self.done {
            return Ok(Next::End);
        }
        if !self.header_read {
            if self.buf.len() < HEADER_LEN {
                return Ok(Next::NeedMore);
            }
            if &self.buf[..MAGIC.len()] != MAGIC {
                return Err("the stream does not start with the binary COPY signature".into());
            }
            self.buf.advance(MAGIC.len());
            let _flags = self.buf.get_i32();
            let ext = self.buf.get_i32();
            let ext = usize::try_from(ext).map_err(|_| "negative header extension length")?;
            if self.buf.len() < ext {
                // Rare and tiny; the extension area is empty in practice.
                return Err("the header extension area is truncated".into());
            }
            self.buf.advance(ext);
            self.header_read = true;
        }
        if self.buf.len() < 2 {
            return Ok(Next::NeedMore);
        }
        let count = i16::from_be_bytes([self.buf[0], self.buf[1]]);
        if count == -1 {
            self.buf.advance(2);
            self.done = true;
            return Ok(Next::End);
        }
        if count < 0 || count as usize != expected {
            return Err(format!(
                "a row has {count} fields where {expected} were expected"
            ));
        }
        // Measure the whole tuple before consuming any of it.
        let mut pos = 2usize;
        for _ in 0..expected {
            if self.buf.len() < pos + 4 {
                return Ok(Next::NeedMore);
            }
            let len = i32::from_be_bytes([
                self.buf[pos],
                self.buf[pos + 1],
                self.buf[pos + 2],
                self.buf[pos + 3],
            ]);
            pos += 4;
            if len >= 0 {
                pos += len as usize;
            } else if len != -1 {
                return Err(format!("a field declares the length {len}"));
            }
        }
        if self.buf.len() < pos {
            return Ok(Next::NeedMore);
        }
        // Fields are read in place; the buffer only moves its start past
        // the tuple afterwards (no split-off buffer per row).
        let tuple = &self.buf[..pos];
        let mut at = 2usize;
        for i in 0..expected {
            let len = i32::from_be_bytes([tuple[at], tuple[at + 1], tuple[at + 2], tuple[at + 3]]);
            at += 4;
            if len < 0 {
                field(i, None)?;
            } else {
                let end = at + len as usize;
                field(i, Some(&tuple[at..end]))?;
                at = end;
            }
        }
        self.buf.advance(pos);
        Ok(Next::Tuple)
    }
}

/// Writes one tuple: the field count, then each field through `encode`,
/// which appends the value's bytes and returns `false` for NULL.
pub(crate) struct TupleWriter<'a> {
    out: &'a mut BytesMut,
}

impl<'a> TupleWriter<'a> {
    pub fn begin(out: &'a mut BytesMut, fields: usize) -> Self {
        out.put_i16(fields as i16);
        TupleWriter { out }
    }

    pub fn null(&mut self) {
        self.out.put_i32(-1);
    }

    /// The stream, for a field whose writer puts its own length prefix.
    pub fn raw(&mut self) -> &mut BytesMut {
        self.out
    }

    /// Appends one non-NULL field written by `f`; the length prefix is
    /// filled in afterwards.
    pub fn field<E>(&mut self, f: impl FnOnce(&mut BytesMut) -> Result<(), E>) -> Result<(), E> {
        let at = self.out.len();
        self.out.put_i32(0);
        f(self.out)?;
        let len = (self.out.len() - at - 4) as i32;
        self.out[at..at + 4].copy_from_slice(&len.to_be_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream() -> BytesMut {
        let mut b = BytesMut::new();
        write_header(&mut b);
        let mut t = TupleWriter::begin(&mut b, 2);
        t.field(|o| {
            o.put_slice(b"abc");
            Ok::<_, ()>(())
        })
        .unwrap();
        t.null();
        write_trailer(&mut b);
        b
    }

    #[test]
    fn reads_tuples_delivered_one_byte_at_a_time() {
        let s = stream();
        let mut r = CopyReader::default();
        let mut seen = Vec::new();
        let mut ended = false;
        for byte in s.iter() {
            r.push(&[*byte]);
            loop {
                match r
                    .next_tuple(2, |i, v| {
                        seen.push((i, v.map(<[u8]>::to_vec)));
                        Ok(())
                    })
                    .unwrap()
                {
                    Next::Tuple => continue,
                    Next::NeedMore => break,
                    Next::End => {
                        ended = true;
                        break;
                    }
                }
            }
        }
        assert!(ended);
        assert_eq!(seen, vec![(0, Some(b"abc".to_vec())), (1, None)]);
    }

    #[test]
    fn rejects_bad_signature_counts_and_lengths() {
        let mut r = CopyReader::default();
        r.push(b"NOTCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0");
        assert!(r.next_tuple(1, |_, _| Ok(())).is_err());

        let mut b = BytesMut::new();
        write_header(&mut b);
        b.put_i16(3);
        let mut r = CopyReader::default();
        r.push(&b);
        assert!(r.next_tuple(2, |_, _| Ok(())).is_err());

        let mut b = BytesMut::new();
        write_header(&mut b);
        b.put_i16(1);
        b.put_i32(-7);
        let mut r = CopyReader::default();
        r.push(&b);
        assert!(r.next_tuple(1, |_, _| Ok(())).is_err());

        // A length far beyond what arrived waits for more data instead of
        // allocating it.
        let mut b = BytesMut::new();
        write_header(&mut b);
        b.put_i16(1);
        b.put_i32(i32::MAX);
        let mut r = CopyReader::default();
        r.push(&b);
        assert!(matches!(r.next_tuple(1, |_, _| Ok(())), Ok(Next::NeedMore)));
    }
}
