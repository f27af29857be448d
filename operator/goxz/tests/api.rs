//! Behaviour of the public API around the compressor: errors of the underlying writer, short
//! writes, empty writes.

#[path = "common/gen.rs"]
mod gen_inputs;

use std::io::{self, Write};

use kiln_goxz::XzWriter;

/// Fails once `left` bytes have been written.
struct Failing {
    left: usize,
}

impl Write for Failing {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Err(io::Error::other("disk full"));
        }
        let k = buf.len().min(self.left);
        self.left -= k;
        Ok(k)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn run(inner: Failing, data: &[u8]) -> io::Result<()> {
    let mut w = XzWriter::new(inner)?;
    for chunk in data.chunks(100_000) {
        w.write_all(chunk)?;
    }
    w.finish().map(|_| ())
}

#[test]
fn errors_of_the_underlying_writer_are_returned() {
    let mut rng = gen_inputs::Rng::new(7);
    let data = gen_inputs::mixed(&mut rng, 3 << 20);
    let full = kiln_goxz::compress(&data).unwrap().len();
    for left in [
        0,
        5,
        12,
        23,
        24,
        25,
        100,
        5000,
        70_000,
        500_000,
        full - 20,
        full - 1,
    ] {
        assert!(run(Failing { left }, &data).is_err(), "limit {left}");
    }
    assert!(run(Failing { left: full }, &data).is_ok());
}

#[test]
fn writer_refuses_input_after_an_error() {
    let data = gen_inputs::random(&mut gen_inputs::Rng::new(1), 4 << 20);
    let mut w = XzWriter::new(Failing { left: 1000 }).unwrap();
    assert!(w.write_all(&data).is_err());
    assert!(w.write(b"x").is_err());
    assert!(w.finish().is_err());
}

/// Accepts at most a few bytes per call.
struct Trickle(Vec<u8>, usize);

impl Write for Trickle {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.1 = self.1 % 7 + 1;
        let k = buf.len().min(self.1);
        self.0.extend_from_slice(&buf[..k]);
        Ok(k)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn short_writes_and_empty_writes() {
    let data = gen_inputs::text(&mut gen_inputs::Rng::new(3), 300_000);
    let mut w = XzWriter::new(Trickle(Vec::new(), 0)).unwrap();
    assert_eq!(w.write(&[]).unwrap(), 0);
    w.write_all(&data[..1000]).unwrap();
    assert_eq!(w.write(&[]).unwrap(), 0);
    w.write_all(&data[1000..]).unwrap();
    w.flush().unwrap();
    assert!(w.get_ref().0.len() >= 24);
    let out = w.finish().unwrap().0;
    assert_eq!(out, kiln_goxz::compress(&data).unwrap());
}
