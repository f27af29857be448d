//! The LZMA2 writer: ports `lzma/writer2.go` (`Writer2` with the default `Writer2Config`) and
//! the chunk header and chunk state parts of `lzma/header2.go`.

use std::io::{self, Write};

use crate::dict::EncoderDict;
use crate::encoder::Encoder;
use crate::hashtable::HashTable;
use crate::rangecoder::{EncErr, LimitedBuf};
use crate::state::{Properties, State};

/// `maxCompressed`: the maximum size of the compressed data in a chunk.
const MAX_COMPRESSED: usize = 1 << 16;
/// `maxUncompressed`: the maximum size of the uncompressed data in a chunk.
const MAX_UNCOMPRESSED: usize = 1 << 21;
/// `uncompressedHeaderLen`
const UNCOMPRESSED_HEADER_LEN: usize = 3;

/// `chunkType`
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ChunkType {
    /// end of stream
    Eos,
    /// uncompressed; reset dictionary
    Ud,
    /// uncompressed; no reset of dictionary
    U,
    /// LZMA compressed; no reset
    L,
    /// LZMA compressed; reset state (never chosen by the writer)
    #[allow(dead_code)]
    Lr,
    /// LZMA compressed; reset state; new property value
    Lrn,
    /// LZMA compressed; reset state; new property value; reset dictionary
    Lrnd,
}

impl ChunkType {
    /// `headerLen`
    fn header_len(self) -> usize {
        match self {
            ChunkType::Eos => 1,
            ChunkType::U | ChunkType::Ud => UNCOMPRESSED_HEADER_LEN,
            ChunkType::L | ChunkType::Lr => 5,
            ChunkType::Lrn | ChunkType::Lrnd => 6,
        }
    }

    /// The control byte without the size bits (`hEOS`, `hUD`, ... `hLRND`).
    fn control(self) -> u8 {
        match self {
            ChunkType::Eos => 0,
            ChunkType::Ud => 1,
            ChunkType::U => 2,
            ChunkType::L => 1 << 7,
            ChunkType::Lr => (1 << 7) | (1 << 5),
            ChunkType::Lrn => (1 << 7) | (1 << 6),
            ChunkType::Lrnd => (1 << 7) | (1 << 6) | (1 << 5),
        }
    }
}

/// `chunkHeader.MarshalBinary`
fn chunk_header(
    ctype: ChunkType,
    uncompressed: u32,
    compressed: u16,
    props: Properties,
) -> Vec<u8> {
    let mut data = vec![0u8; ctype.header_len()];
    data[0] = ctype.control();
    if ctype == ChunkType::Eos {
        return data;
    }
    data[1..3].copy_from_slice(&(uncompressed as u16).to_be_bytes());
    if matches!(ctype, ChunkType::Ud | ChunkType::U) {
        return data;
    }
    data[0] |= ((uncompressed >> 16) as u8) & !0xE0;
    data[3..5].copy_from_slice(&compressed.to_be_bytes());
    if matches!(ctype, ChunkType::L | ChunkType::Lr) {
        return data;
    }
    data[5] = props.code();
    data
}

/// `chunkState`: 'S' start, 'L' LZMA, 'R' reset required, 'U' uncompressed, 'T' stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ChunkState {
    S,
    L,
    R,
    U,
    T,
}

impl ChunkState {
    /// `chunkState.next`
    fn next(&mut self, ctype: ChunkType) -> io::Result<()> {
        use ChunkType as C;
        let err = || Err(io::Error::other("lzma: unexpected chunk type"));
        *self = match (*self, ctype) {
            (_, C::Eos) if *self != ChunkState::T => ChunkState::T,
            (ChunkState::S, C::Ud) => ChunkState::R,
            (ChunkState::S, C::Lrnd) => ChunkState::L,
            (ChunkState::L, C::Ud) => ChunkState::R,
            (ChunkState::L, C::U) => ChunkState::U,
            (ChunkState::L, C::L | C::Lr | C::Lrn | C::Lrnd) => ChunkState::L,
            (ChunkState::R, C::Ud | C::U) => ChunkState::R,
            (ChunkState::R, C::Lrn | C::Lrnd) => ChunkState::L,
            (ChunkState::U, C::Ud) => ChunkState::R,
            (ChunkState::U, C::U) => ChunkState::U,
            (ChunkState::U, C::L | C::Lr | C::Lrn | C::Lrnd) => ChunkState::L,
            _ => return err(),
        };
        Ok(())
    }

    /// `chunkState.defaultChunkType`
    fn default_chunk_type(self) -> ChunkType {
        match self {
            ChunkState::S => ChunkType::Lrnd,
            ChunkState::L | ChunkState::U => ChunkType::L,
            ChunkState::R => ChunkType::Lrn,
            ChunkState::T => ChunkType::Eos,
        }
    }
}

fn enc_err(e: EncErr) -> io::Error {
    match e {
        EncErr::Limit => io::Error::other("limit reached"),
        EncErr::Other(msg) => io::Error::other(format!("lzma: {msg}")),
    }
}

/// `Writer2`: an LZMA2 chunk sequence writer. Unlike Go's it does not own its output: each
/// method takes the writer (the block's counting writer).
pub(crate) struct Writer2 {
    /// state at the start of the current chunk (`start`)
    start: Box<State>,
    encoder: Encoder,
    cstate: ChunkState,
    ctype: ChunkType,
}

impl Writer2 {
    /// `Writer2Config{DictCap: dict_cap, BufSize: buf_size}.NewWriter2` with the default
    /// properties and the `HashTable4` matcher.
    pub(crate) fn new(dict_cap: usize, buf_size: usize) -> Self {
        let props = Properties::DEFAULT;
        let start = Box::new(State::new(props));
        let m = HashTable::new(dict_cap);
        let d = EncoderDict::new(dict_cap, buf_size, m);
        let lbw = LimitedBuf {
            buf: Vec::with_capacity(MAX_COMPRESSED),
            n: MAX_COMPRESSED as i64,
        };
        let encoder = Encoder::new(lbw, start.clone(), d);
        let cstate = ChunkState::S;
        Writer2 {
            start,
            encoder,
            cstate,
            ctype: cstate.default_chunk_type(),
        }
    }

    /// `Writer2.written`: bytes in the current chunk.
    fn written(&self) -> usize {
        self.encoder.compressed() as usize + self.encoder.dict.buffered()
    }

    /// `Writer2.Write`
    pub(crate) fn write<W: Write>(&mut self, w: &mut W, p: &[u8]) -> io::Result<usize> {
        if self.cstate == ChunkState::T {
            return Err(io::Error::other("lzma: writer closed"));
        }
        let mut n = 0;
        while n < p.len() {
            let Some(m) = MAX_UNCOMPRESSED
                .checked_sub(self.written())
                .filter(|&m| m > 0)
            else {
                return Err(io::Error::other("lzma: maxUncompressed reached"));
            };
            let q = if n + m < p.len() {
                &p[n..n + m]
            } else {
                &p[n..]
            };
            let (k, err) = self.encoder.write(q);
            n += k;
            match err {
                None => {}
                Some(EncErr::Limit) => {}
                Some(e) => return Err(enc_err(e)),
            }
            if err == Some(EncErr::Limit) || k == m {
                self.flush_chunk(w)?;
            }
        }
        Ok(n)
    }

    /// `Writer2.writeUncompressedChunk`
    fn write_uncompressed_chunk<W: Write>(&mut self, w: &mut W) -> io::Result<()> {
        let u = self.encoder.compressed();
        if u <= 0 {
            return Err(io::Error::other(
                "lzma: can't write empty uncompressed chunk",
            ));
        }
        if u as usize > MAX_UNCOMPRESSED {
            return Err(io::Error::other("overrun of uncompressed data limit"));
        }
        self.ctype = match self.ctype {
            ChunkType::Lrnd => ChunkType::Ud,
            _ => ChunkType::U,
        };
        // w.encoder.state = w.start
        self.encoder.state.clone_from(&self.start);
        let hdata = chunk_header(self.ctype, (u - 1) as u32, 0, self.encoder.state.props);
        w.write_all(&hdata)?;
        self.encoder.dict.copy_n(w, u as usize)
    }

    /// `Writer2.writeCompressedChunk`
    fn write_compressed_chunk<W: Write>(&mut self, w: &mut W) -> io::Result<()> {
        if matches!(self.ctype, ChunkType::U | ChunkType::Ud) {
            return Err(io::Error::other("chunk type uncompressed"));
        }
        let u = self.encoder.compressed();
        if u <= 0 {
            return Err(io::Error::other("writeCompressedChunk: empty chunk"));
        }
        if u as usize > MAX_UNCOMPRESSED {
            return Err(io::Error::other("overrun of uncompressed data limit"));
        }
        let c = self.encoder.re.lbw.buf.len();
        if c == 0 || c > MAX_COMPRESSED {
            return Err(io::Error::other("lzma: compressed chunk size out of range"));
        }
        let hdata = chunk_header(
            self.ctype,
            (u - 1) as u32,
            (c - 1) as u16,
            self.encoder.state.props,
        );
        w.write_all(&hdata)?;
        w.write_all(&self.encoder.re.lbw.buf)
    }

    /// `Writer2.writeChunk`: the chunk goes out uncompressed when that is shorter.
    fn write_chunk<W: Write>(&mut self, w: &mut W) -> io::Result<()> {
        let u = UNCOMPRESSED_HEADER_LEN as i64 + self.encoder.compressed();
        let c = (self.ctype.header_len() + self.encoder.re.lbw.buf.len()) as i64;
        if u < c {
            return self.write_uncompressed_chunk(w);
        }
        self.write_compressed_chunk(w)
    }

    /// `Writer2.flushChunk`: terminates the current chunk and starts the next.
    fn flush_chunk<W: Write>(&mut self, w: &mut W) -> io::Result<()> {
        if self.written() == 0 {
            return Ok(());
        }
        self.encoder.close().map_err(enc_err)?;
        self.write_chunk(w)?;
        self.encoder.re.lbw.buf.clear();
        self.encoder.re.lbw.n = MAX_COMPRESSED as i64;
        self.encoder.reopen();
        self.cstate.next(self.ctype)?;
        self.ctype = self.cstate.default_chunk_type();
        self.start.clone_from(&self.encoder.state);
        Ok(())
    }

    /// `Writer2.Flush`
    fn flush<W: Write>(&mut self, w: &mut W) -> io::Result<()> {
        if self.cstate == ChunkState::T {
            return Err(io::Error::other("lzma: writer closed"));
        }
        while self.written() > 0 {
            self.flush_chunk(w)?;
        }
        Ok(())
    }

    /// `Writer2.Close`: flushes and writes the end-of-stream chunk. (Go ignores a `Flush`
    /// error here and returns nil without writing the EOS byte; the port reports it.)
    pub(crate) fn close<W: Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.flush(w)?;
        w.write_all(&[0])?;
        self.cstate = ChunkState::T;
        Ok(())
    }
}
