//! The encoder dictionary: ports `lzma/buffer.go` (`buffer`, the circular byte buffer) and
//! `lzma/encoderdict.go` (`encoderDict`, the dictionary plus look-ahead buffer).

use std::io::{self, Write};

use crate::codecs::MAX_MATCH_LEN;
use crate::hashtable::HashTable;

/// `buffer`: a circular buffer; `front == rear` means empty, so one byte always stays unused.
pub(crate) struct Buffer {
    pub(crate) data: Vec<u8>,
    front: usize,
    pub(crate) rear: usize,
}

impl Buffer {
    /// `newBuffer`
    fn new(size: usize) -> Self {
        Buffer {
            data: vec![0; size + 1],
            front: 0,
            rear: 0,
        }
    }

    /// `buffer.Buffered`
    #[inline]
    pub(crate) fn buffered(&self) -> usize {
        if self.front >= self.rear {
            self.front - self.rear
        } else {
            self.front + self.data.len() - self.rear
        }
    }

    /// `buffer.Available`
    #[inline]
    pub(crate) fn available(&self) -> usize {
        if self.rear > self.front {
            self.rear - 1 - self.front
        } else {
            self.rear + self.data.len() - 1 - self.front
        }
    }

    /// `buffer.addIndex` (for `n <= len(data)`).
    #[inline]
    fn add_index(&self, i: usize, n: usize) -> usize {
        let j = i + n;
        if j >= self.data.len() {
            j - self.data.len()
        } else {
            j
        }
    }

    /// `buffer.Peek`
    #[inline]
    pub(crate) fn peek(&self, p: &mut [u8]) -> usize {
        let n = p.len().min(self.buffered());
        let p = &mut p[..n];
        let tail = &self.data[self.rear..];
        let k = n.min(tail.len());
        p[..k].copy_from_slice(&tail[..k]);
        if k < n {
            p[k..].copy_from_slice(&self.data[..n - k]);
        }
        n
    }

    /// `buffer.Read`
    #[inline]
    fn read(&mut self, p: &mut [u8]) -> usize {
        let n = self.peek(p);
        self.rear = self.add_index(self.rear, n);
        n
    }

    /// `buffer.Write`; returns the number of bytes written (Go's `ErrNoSpace` when fewer
    /// than `p.len()`).
    fn write(&mut self, p: &[u8]) -> usize {
        let n = p.len().min(self.available());
        let p = &p[..n];
        let k = n.min(self.data.len() - self.front);
        self.data[self.front..self.front + k].copy_from_slice(&p[..k]);
        if k < n {
            self.data[..n - k].copy_from_slice(&p[k..]);
        }
        self.front = self.add_index(self.front, n);
        n
    }

    /// `buffer.matchLen`: the length of the common prefix of `p` and the bytes starting
    /// `distance` bytes before the rear. Like Go, a comparison that starts without wrapping
    /// stops at the physical end of the data slice.
    #[inline]
    pub(crate) fn match_len(&self, distance: usize, p: &[u8]) -> usize {
        let len = self.data.len();
        if distance > len {
            return 0;
        }
        let mut n = 0;
        let mut p = p;
        let i = if self.rear < distance {
            let back = distance - self.rear;
            n = prefix_len(p, &self.data[len - back..]);
            if n < back {
                return n;
            }
            p = &p[n..];
            0
        } else {
            self.rear - distance
        };
        n + prefix_len(p, &self.data[i..])
    }
}

/// `prefixLen`
#[inline]
fn prefix_len(a: &[u8], b: &[u8]) -> usize {
    let m = a.len().min(b.len());
    let (a, b) = (&a[..m], &b[..m]);
    let mut i = 0;
    // Eight bytes at a time; the result is the first differing byte as in Go's loop.
    while i + 8 <= m {
        let x = u64::from_le_bytes(a[i..i + 8].try_into().unwrap_or([0; 8]));
        let y = u64::from_le_bytes(b[i..i + 8].try_into().unwrap_or([0; 8]));
        let d = x ^ y;
        if d != 0 {
            return i + (d.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < m {
        if a[i] != b[i] {
            return i;
        }
        i += 1;
    }
    m
}

/// `encoderDict`: the dictionary of `capacity` bytes behind the head plus the look-ahead
/// buffer, and the match finder fed with every byte the head passes.
pub(crate) struct EncoderDict {
    pub(crate) buf: Buffer,
    pub(crate) m: HashTable,
    pub(crate) head: i64,
    pub(crate) capacity: usize,
    /// preallocated array
    pub(crate) data: [u8; MAX_MATCH_LEN],
}

impl EncoderDict {
    /// `newEncoderDict`
    pub(crate) fn new(dict_cap: usize, buf_size: usize, m: HashTable) -> Self {
        EncoderDict {
            buf: Buffer::new(dict_cap + buf_size),
            m,
            head: 0,
            capacity: dict_cap,
            data: [0; MAX_MATCH_LEN],
        }
    }

    /// `encoderDict.Discard`: moves the head `n <= maxMatchLen` bytes on and hashes them.
    #[inline]
    pub(crate) fn discard(&mut self, n: usize) {
        let n = n.min(MAX_MATCH_LEN);
        let k = self.buf.read(&mut self.data[..n]);
        self.head += k as i64;
        self.m.write(&self.data[..k]);
    }

    /// `encoderDict.Len`: the number of dictionary bytes still intact behind the head.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        let n = self.buf.available();
        if n as i64 > self.head {
            self.head as usize
        } else {
            n
        }
    }

    /// `encoderDict.DictLen`
    #[inline]
    pub(crate) fn dict_len(&self) -> usize {
        if self.head < self.capacity as i64 {
            self.head as usize
        } else {
            self.capacity
        }
    }

    /// `encoderDict.Available`
    #[inline]
    fn available(&self) -> usize {
        self.buf.available().saturating_sub(self.dict_len())
    }

    /// `encoderDict.Write`; returns the bytes taken (Go's `ErrNoSpace` when fewer).
    pub(crate) fn write(&mut self, p: &[u8]) -> usize {
        let m = self.available();
        let p = &p[..p.len().min(m)];
        self.buf.write(p)
    }

    /// `encoderDict.Pos`
    #[inline]
    pub(crate) fn pos(&self) -> i64 {
        self.head
    }

    /// `encoderDict.ByteAt`: the byte `distance` bytes behind the head, 0 if there is none.
    #[inline]
    pub(crate) fn byte_at(&self, distance: usize) -> u8 {
        if !(0 < distance && distance <= self.len()) {
            return 0;
        }
        let i = if self.buf.rear >= distance {
            self.buf.rear - distance
        } else {
            self.buf.rear + self.buf.data.len() - distance
        };
        self.buf.data[i]
    }

    /// `encoderDict.CopyN`: copies the last `n` bytes behind the head to `w` (the payload of an
    /// uncompressed LZMA2 chunk).
    pub(crate) fn copy_n<W: Write>(&self, w: &mut W, n: usize) -> io::Result<()> {
        if n == 0 {
            return Ok(());
        }
        if n > self.len() {
            return Err(io::Error::other("lzma: insufficient space"));
        }
        let rear = self.buf.rear;
        let start = if rear >= n {
            rear - n
        } else {
            let i = rear + self.buf.data.len() - n;
            w.write_all(&self.buf.data[i..])?;
            0
        };
        w.write_all(&self.buf.data[start..rear])
    }

    /// `encoderDict.Buffered`: bytes ahead of the head.
    #[inline]
    pub(crate) fn buffered(&self) -> usize {
        self.buf.buffered()
    }
}
