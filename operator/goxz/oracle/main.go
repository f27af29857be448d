package main

import (
	"bufio"
	"io"
	"os"

	"github.com/ulikunitz/xz"
)

func main() {
	out := bufio.NewWriterSize(os.Stdout, 1<<20)
	w, err := xz.NewWriter(out)
	if err != nil {
		panic(err)
	}
	if _, err := io.Copy(w, bufio.NewReaderSize(os.Stdin, 1<<20)); err != nil {
		panic(err)
	}
	if err := w.Close(); err != nil {
		panic(err)
	}
	if err := out.Flush(); err != nil {
		panic(err)
	}
}
