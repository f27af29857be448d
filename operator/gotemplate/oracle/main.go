// Go side of the engine's comparison with text/template: renders templates read as JSON
// strings, one a line, with the same data and functions as examples/render_lines.rs, printing
// {"ok": output} or {"err": message} a line. Run by compare.sh.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/template"
)

type S struct {
	Vars string
	Path string
}

func funcs() template.FuncMap {
	return template.FuncMap{
		"upper": strings.ToUpper,
		"split": func(k, s string, i int) (string, error) {
			p := strings.Split(k, s)
			if len(p) <= i {
				return "", fmt.Errorf("only %d values were found", len(p))
			}
			return p[i], nil
		},
		"fail":    func() (string, error) { return "", errors.New("boom") },
		"isotime": func(f ...string) (string, error) { return fmt.Sprint(len(f)), nil },
	}
}

func main() {
	data := map[string]interface{}{
		"Name": "web", "Count": 3, "Empty": "",
		"List": []interface{}{"a", "b"},
		"Sub":  map[string]interface{}{"X": "x", "Y": 2},
		"S":    S{"A=1", "/tmp/s"},
		"Nil":  nil,
	}
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var t string
		json.Unmarshal(sc.Bytes(), &t)
		out := func() (res map[string]string) {
			defer func() {
				if r := recover(); r != nil {
					res = map[string]string{"panic": fmt.Sprint(r)}
				}
			}()
			tpl, err := template.New("root").Funcs(funcs()).Parse(t)
			if err != nil {
				return map[string]string{"err": err.Error()}
			}
			var b strings.Builder
			if err := tpl.Execute(&b, data); err != nil {
				return map[string]string{"err": err.Error()}
			}
			return map[string]string{"ok": b.String()}
		}()
		j, _ := json.Marshal(out)
		fmt.Println(string(j))
	}
}
