//! A cursor over fuzzer bytes. Plain std, so tests/fuzz_regressions.rs can
//! include this file as it is.

/// Reads small values from the front of the input; `None` once it is used up.
pub struct Bytes<'a> {
    data: &'a [u8],
}

impl<'a> Bytes<'a> {
    /// A cursor at the start of `data`.
    pub fn new(data: &'a [u8]) -> Bytes<'a> {
        Bytes { data }
    }

    /// Whether every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The next byte.
    pub fn u8(&mut self) -> Option<u8> {
        let (&b, rest) = self.data.split_first()?;
        self.data = rest;
        Some(b)
    }

    /// The next 8 bytes as a little-endian f64 (any bit pattern).
    pub fn f64_bits(&mut self) -> Option<f64> {
        if self.data.len() < 8 {
            return None;
        }
        let (head, rest) = self.data.split_at(8);
        self.data = rest;
        let mut b = [0u8; 8];
        b.copy_from_slice(head);
        Some(f64::from_le_bytes(b))
    }
}
