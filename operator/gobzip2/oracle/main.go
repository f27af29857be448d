// Oracle: encodes a file with github.com/dsnet/compress/bzip2 the way
// Packer's compress post-processor does (io.Copy => 32 KiB writes).
// Usage: oracle LEVEL IN OUT [CHUNKS]
// CHUNKS is an optional comma-separated list of write sizes used cyclically
// instead of io.Copy (e.g. "512,32768,7").
package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/dsnet/compress/bzip2"
)

func main() {
	if len(os.Args) != 4 && len(os.Args) != 5 {
		fmt.Fprintln(os.Stderr, "usage: oracle LEVEL IN OUT [CHUNKS]")
		os.Exit(2)
	}
	level, err := strconv.Atoi(os.Args[1])
	check(err)
	in, err := os.Open(os.Args[2])
	check(err)
	defer in.Close()
	out, err := os.Create(os.Args[3])
	check(err)
	w, err := bzip2.NewWriter(out, &bzip2.WriterConfig{Level: level})
	check(err)
	if len(os.Args) == 5 {
		data, err := io.ReadAll(in)
		check(err)
		var sizes []int
		for _, f := range strings.Split(os.Args[4], ",") {
			n, err := strconv.Atoi(f)
			check(err)
			sizes = append(sizes, n)
		}
		for k := 0; len(data) > 0; k++ {
			n := sizes[k%len(sizes)]
			if n > len(data) {
				n = len(data)
			}
			_, err := w.Write(data[:n])
			check(err)
			data = data[n:]
		}
	} else {
		// Hide WriterTo/ReaderFrom so io.Copy uses its 32 KiB buffer, as with an *os.File source.
		_, err = io.Copy(struct{ io.Writer }{w}, struct{ io.Reader }{in})
		check(err)
	}
	check(w.Close())
	check(out.Close())
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
