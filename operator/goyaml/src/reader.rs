//! `readerc.go`: decoding the input (UTF-8 or, after a byte order mark, UTF-16) into the
//! working buffer, 512 raw bytes at a time as go-yaml reads a string.

use crate::parser::Parser;
use crate::{Encoding, Error, ErrorKind, Mark};

/// `input_raw_buffer_size`.
const RAW_BUFFER_SIZE: usize = 512;

impl Parser<'_> {
    pub(crate) fn set_reader_error(
        &mut self,
        problem: &'static str,
        offset: usize,
        value: i64,
    ) -> bool {
        self.error = Some(Error {
            kind: ErrorKind::Reader,
            problem,
            problem_offset: offset,
            problem_value: value,
            problem_mark: Mark::default(),
            context: "",
            context_mark: Mark::default(),
        });
        false
    }

    /// `yaml_parser_determine_encoding`.
    fn determine_encoding(&mut self) -> bool {
        while !self.eof && self.raw_buffer.len() - self.raw_buffer_pos < 3 {
            if !self.update_raw_buffer() {
                return false;
            }
        }
        let buf = &self.raw_buffer[self.raw_buffer_pos..];
        if buf.starts_with(b"\xff\xfe") {
            self.encoding = Encoding::Utf16Le;
            self.raw_buffer_pos += 2;
            self.offset += 2;
        } else if buf.starts_with(b"\xfe\xff") {
            self.encoding = Encoding::Utf16Be;
            self.raw_buffer_pos += 2;
            self.offset += 2;
        } else if buf.starts_with(b"\xef\xbb\xbf") {
            self.encoding = Encoding::Utf8;
            self.raw_buffer_pos += 3;
            self.offset += 3;
        } else {
            self.encoding = Encoding::Utf8;
        }
        true
    }

    /// `yaml_parser_update_raw_buffer` with `yaml_string_read_handler`.
    fn update_raw_buffer(&mut self) -> bool {
        if self.raw_buffer_pos == 0 && self.raw_buffer.len() == RAW_BUFFER_SIZE {
            return true;
        }
        if self.eof {
            return true;
        }
        let pos = self.raw_buffer_pos.min(self.raw_buffer.len());
        self.raw_buffer.drain(..pos);
        self.raw_buffer_pos = 0;
        if self.input_pos == self.input.len() {
            self.eof = true;
            return true;
        }
        let room = RAW_BUFFER_SIZE.saturating_sub(self.raw_buffer.len());
        let n = room.min(self.input.len() - self.input_pos);
        self.raw_buffer
            .extend_from_slice(&self.input[self.input_pos..self.input_pos + n]);
        self.input_pos += n;
        true
    }

    /// `yaml_parser_update_buffer`: at least `length` characters in the buffer (NULs past the
    /// end of the stream).
    pub(crate) fn update_buffer(&mut self, length: usize) -> bool {
        if self.unread >= length {
            return true;
        }
        if self.encoding == Encoding::Any && !self.determine_encoding() {
            return false;
        }
        let mut buffer_len = self.buffer.len();
        if self.buffer_pos > 0 && self.buffer_pos < buffer_len {
            self.buffer.copy_within(self.buffer_pos..buffer_len, 0);
            buffer_len -= self.buffer_pos;
            self.buffer_pos = 0;
        } else if self.buffer_pos == buffer_len {
            buffer_len = 0;
            self.buffer_pos = 0;
        }
        self.buffer.truncate(buffer_len);

        let mut first = true;
        while self.unread < length {
            if (!first || self.raw_buffer_pos == self.raw_buffer.len()) && !self.update_raw_buffer()
            {
                return false;
            }
            first = false;

            while self.raw_buffer_pos != self.raw_buffer.len() {
                let raw = &self.raw_buffer[self.raw_buffer_pos..];
                let raw_unread = raw.len();
                let value: u32;
                let width: usize;
                match self.encoding {
                    Encoding::Utf16Le | Encoding::Utf16Be => {
                        let (low, high) = if self.encoding == Encoding::Utf16Le {
                            (0, 1)
                        } else {
                            (1, 0)
                        };
                        if raw_unread < 2 {
                            if self.eof {
                                return self.set_reader_error(
                                    "incomplete UTF-16 character",
                                    self.offset,
                                    -1,
                                );
                            }
                            break;
                        }
                        let mut v = raw[low] as u32 + ((raw[high] as u32) << 8);
                        if v & 0xFC00 == 0xDC00 {
                            return self.set_reader_error(
                                "unexpected low surrogate area",
                                self.offset,
                                v as i64,
                            );
                        }
                        if v & 0xFC00 == 0xD800 {
                            if raw_unread < 4 {
                                if self.eof {
                                    return self.set_reader_error(
                                        "incomplete UTF-16 surrogate pair",
                                        self.offset,
                                        -1,
                                    );
                                }
                                break;
                            }
                            let v2 = raw[low + 2] as u32 + ((raw[high + 2] as u32) << 8);
                            if v2 & 0xFC00 != 0xDC00 {
                                return self.set_reader_error(
                                    "expected low surrogate area",
                                    self.offset + 2,
                                    v2 as i64,
                                );
                            }
                            v = 0x10000 + ((v & 0x3FF) << 10) + (v2 & 0x3FF);
                            width = 4;
                        } else {
                            width = 2;
                        }
                        value = v;
                    }
                    _ => {
                        let octet = raw[0];
                        let w = if octet & 0x80 == 0 {
                            1
                        } else if octet & 0xE0 == 0xC0 {
                            2
                        } else if octet & 0xF0 == 0xE0 {
                            3
                        } else if octet & 0xF8 == 0xF0 {
                            4
                        } else {
                            return self.set_reader_error(
                                "invalid leading UTF-8 octet",
                                self.offset,
                                octet as i64,
                            );
                        };
                        if w > raw_unread {
                            if self.eof {
                                return self.set_reader_error(
                                    "incomplete UTF-8 octet sequence",
                                    self.offset,
                                    -1,
                                );
                            }
                            break;
                        }
                        let mut v = match w {
                            1 => (octet & 0x7F) as u32,
                            2 => (octet & 0x1F) as u32,
                            3 => (octet & 0x0F) as u32,
                            _ => (octet & 0x07) as u32,
                        };
                        for (k, &o) in raw.iter().enumerate().take(w).skip(1) {
                            if o & 0xC0 != 0x80 {
                                return self.set_reader_error(
                                    "invalid trailing UTF-8 octet",
                                    self.offset + k,
                                    o as i64,
                                );
                            }
                            v = (v << 6) + (o & 0x3F) as u32;
                        }
                        let ok = match w {
                            1 => true,
                            2 => v >= 0x80,
                            3 => v >= 0x800,
                            _ => v >= 0x10000,
                        };
                        if !ok {
                            return self.set_reader_error(
                                "invalid length of a UTF-8 sequence",
                                self.offset,
                                -1,
                            );
                        }
                        if (0xD800..=0xDFFF).contains(&v) || v > 0x10FFFF {
                            return self.set_reader_error(
                                "invalid Unicode character",
                                self.offset,
                                v as i64,
                            );
                        }
                        value = v;
                        width = w;
                    }
                }
                let allowed = matches!(value, 0x09 | 0x0A | 0x0D | 0x20..=0x7E | 0x85 | 0xA0..=0xD7FF | 0xE000..=0xFFFD | 0x10000..=0x10FFFF);
                if !allowed {
                    return self.set_reader_error(
                        "control characters are not allowed",
                        self.offset,
                        value as i64,
                    );
                }
                self.raw_buffer_pos += width;
                self.offset += width;
                if value <= 0x7F {
                    self.buffer.push(value as u8);
                } else if value <= 0x7FF {
                    self.buffer.push((0xC0 + (value >> 6)) as u8);
                    self.buffer.push((0x80 + (value & 0x3F)) as u8);
                } else if value <= 0xFFFF {
                    self.buffer.push((0xE0 + (value >> 12)) as u8);
                    self.buffer.push((0x80 + ((value >> 6) & 0x3F)) as u8);
                    self.buffer.push((0x80 + (value & 0x3F)) as u8);
                } else {
                    self.buffer.push((0xF0 + (value >> 18)) as u8);
                    self.buffer.push((0x80 + ((value >> 12) & 0x3F)) as u8);
                    self.buffer.push((0x80 + ((value >> 6) & 0x3F)) as u8);
                    self.buffer.push((0x80 + (value & 0x3F)) as u8);
                }
                self.unread += 1;
            }

            if self.eof {
                self.buffer.push(0);
                self.unread += 1;
                break;
            }
        }
        while self.buffer.len() < length {
            self.buffer.push(0);
        }
        true
    }
}
