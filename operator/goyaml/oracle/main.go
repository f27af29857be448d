// goyamlref: the oracle for kiln-goyaml (assembled and built by compare.sh). Reads hex-encoded
// documents, one a line, on stdin; for each prints "DOC n", the events/error summary of
// go-cty-yaml's parser (cyaml: go-cty-yaml v1.0.1's sources plus export.go), and "DEC "
// with YAMLDecodeFunc's result: the value as ctyjson, or the error text. `ev`: events only.
package main

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"os"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	yaml "goyamlref/cyaml"
)

func decode(src []byte) (s string) {
	defer func() {
		if r := recover(); r != nil {
			s = fmt.Sprintf("PANIC %v", r)
		}
	}()
	v, err := yaml.YAMLDecodeFunc.Call([]cty.Value{cty.StringVal(string(src))})
	if err != nil {
		return "ERR " + yaml.Esc([]byte(err.Error()))
	}
	j, err := ctyjson.Marshal(v, cty.DynamicPseudoType)
	if err != nil {
		return "JSONERR " + err.Error()
	}
	return "VAL " + yaml.Esc(j)
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<26)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	mode := "both"
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	n := 0
	for in.Scan() {
		src, err := hex.DecodeString(in.Text())
		if err != nil {
			panic(err)
		}
		fmt.Fprintf(out, "DOC %d\n", n)
		n++
		if mode != "dec" {
			for _, l := range yaml.Events(src) {
				fmt.Fprintln(out, l)
			}
		}
		if mode != "ev" {
			fmt.Fprintln(out, "DEC "+decode(src))
		}
	}
}
