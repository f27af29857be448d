// The oracle for kiln-goflate: Go's own compress/gzip output for each input line.
//
// Each stdin line is `LEVEL CHUNK FLUSH HEXDATA`: the data is written to a
// gzip.NewWriterLevel(LEVEL) in writes of CHUNK bytes (0: one write), with a
// Flush after each write when FLUSH is 1, then Close. Each output line is the
// hex of the gzip stream, or `error: ...`.
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
)

func run(line string) (string, error) {
	f := strings.Fields(line)
	if len(f) == 3 {
		f = append(f, "")
	}
	if len(f) != 4 {
		return "", fmt.Errorf("bad line")
	}
	level, err := strconv.Atoi(f[0])
	if err != nil {
		return "", err
	}
	chunk, err := strconv.Atoi(f[1])
	if err != nil {
		return "", err
	}
	data, err := hex.DecodeString(f[3])
	if err != nil {
		return "", err
	}
	var out bytes.Buffer
	w, err := gzip.NewWriterLevel(&out, level)
	if err != nil {
		return "", err
	}
	if chunk <= 0 {
		chunk = len(data) + 1
	}
	// At least one write (of nothing, for empty data), as base64gzip does.
	for first := true; first || len(data) > 0; first = false {
		n := min(chunk, len(data))
		if _, err := w.Write(data[:n]); err != nil {
			return "", err
		}
		data = data[n:]
		if f[2] == "1" {
			if err := w.Flush(); err != nil {
				return "", err
			}
		}
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	return hex.EncodeToString(out.Bytes()), nil
}

func main() {
	in := bufio.NewReaderSize(os.Stdin, 1<<20)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for {
		line, err := in.ReadString('\n')
		line = strings.TrimRight(line, "\n")
		if line != "" {
			s, e := run(line)
			if e != nil {
				s = "error: " + e.Error()
			}
			fmt.Fprintln(out, s)
		}
		if err != nil {
			return
		}
	}
}
