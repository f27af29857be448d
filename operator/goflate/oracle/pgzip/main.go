// The pgzip oracle for kiln-goflate: what Packer's compress post-processor writes.
//
// Each stdin line is `LEVEL BLOCKSIZE CHUNK HEXDATA`: the data is written to
// pgzip.NewWriterLevel(LEVEL) after SetConcurrency(BLOCKSIZE, 4), in writes of
// CHUNK bytes (0: one write), then Close. Each output line is the hex of the
// gzip stream, or `error: ...`.
package main

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/klauspost/pgzip"
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
	block, err := strconv.Atoi(f[1])
	if err != nil {
		return "", err
	}
	chunk, err := strconv.Atoi(f[2])
	if err != nil {
		return "", err
	}
	data, err := hex.DecodeString(f[3])
	if err != nil {
		return "", err
	}
	var out bytes.Buffer
	w, err := pgzip.NewWriterLevel(&out, level)
	if err != nil {
		return "", err
	}
	if err := w.SetConcurrency(block, 4); err != nil {
		return "", err
	}
	if chunk <= 0 {
		chunk = len(data) + 1
	}
	for len(data) > 0 {
		n := min(chunk, len(data))
		if _, err := w.Write(data[:n]); err != nil {
			return "", err
		}
		data = data[n:]
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
