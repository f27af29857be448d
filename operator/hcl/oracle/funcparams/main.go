// Prints the parameters of Packer v1.16.0's HCL2 functions (hcl2template.Functions), one
// function a line: its name, then each parameter as NAME:TYPE, the variadic one as
// *NAME:TYPE, with a final ? when it accepts null, ~ a value of dynamic type. Run by scripts/function-params.sh; its output is
// operator/hcl/src/functions/params.txt.
package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/packer/hcl2template"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

func ty(t cty.Type) string {
	switch {
	case t == cty.DynamicPseudoType:
		return "any"
	case t == cty.String:
		return "string"
	case t == cty.Number:
		return "number"
	case t == cty.Bool:
		return "bool"
	case t.IsListType():
		return "list(" + ty(t.ElementType()) + ")"
	case t.IsSetType():
		return "set(" + ty(t.ElementType()) + ")"
	case t.IsMapType():
		return "map(" + ty(t.ElementType()) + ")"
	case t.IsCapsuleType():
		return "capsule"
	}
	return "?" + t.GoString()
}

// "?" when the parameter accepts null (cty refuses a null argument otherwise, before the
// function looks at any argument: "argument must not be null"); "~" when it accepts a
// value of no known type (a `null` literal; otherwise the call's result is unknown).
func null(p function.Parameter) string {
	s := ""
	if p.AllowNull {
		s += "?"
	}
	if p.AllowDynamicType {
		s += "~"
	}
	return s
}

func main() {
	fs := hcl2template.Functions(".")
	names := make([]string, 0, len(fs))
	for n := range fs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		f := fs[n]
		parts := []string{n}
		for _, p := range f.Params() {
			parts = append(parts, p.Name+":"+ty(p.Type)+null(p))
		}
		if v := f.VarParam(); v != nil {
			parts = append(parts, "*"+v.Name+":"+ty(v.Type)+null(*v))
		}
		fmt.Println(strings.Join(parts, " "))
	}
}
