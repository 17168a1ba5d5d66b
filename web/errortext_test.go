package web

import (
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// personCodes are the error codes whose message a page shows (see
// pageMessage); the others get the title alone.
var personCodes = []string{"EINVALID", "ENOTFOUND", "ECONFLICT", "EUNAUTHORIZED", "EFORBIDDEN", "ERATELIMIT"}

// sourceFormats finds the formats of the errors with personCodes built in
// the packages whose errors reach the pages: tanggap.Errorf and
// tanggap.WrapCode calls, and workflow's invalid helper (EINVALID).
func sourceFormats(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{} // format -> where
	fset := token.NewFileSet()
	for _, dir := range []string{".", "../workflow", "../store", "../report"} {
		names, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, name := range names {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, name, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				var code string
				var format ast.Expr
				switch fn := call.Fun.(type) {
				case *ast.SelectorExpr:
					pkg, ok := fn.X.(*ast.Ident)
					if !ok || pkg.Name != "tanggap" || (fn.Sel.Name != "Errorf" && fn.Sel.Name != "WrapCode") {
						return true
					}
					code = "EINVALID" // a code chosen at run time may be any
					if c, ok := call.Args[0].(*ast.SelectorExpr); ok {
						code = c.Sel.Name
					}
					format = call.Args[1]
					if fn.Sel.Name == "WrapCode" {
						format = call.Args[2]
					}
				case *ast.Ident:
					if fn.Name != "invalid" || dir != "../workflow" {
						return true
					}
					code, format = "EINVALID", call.Args[0]
				default:
					return true
				}
				where := fset.Position(call.Pos()).String()
				lit, ok := format.(*ast.BasicLit)
				if !ok && fmtIdent(format) {
					return true // workflow.invalid's own body: the format is its parameter
				}
				if !ok || lit.Kind != token.STRING {
					t.Errorf("%s: an error whose format is not a literal cannot be checked for a translation", where)
					return true
				}
				if slices.Contains(personCodes, code) {
					s, err := strconv.Unquote(lit.Value)
					if err != nil {
						t.Fatal(err)
					}
					out[s] = where
				}
				return true
			})
		}
	}
	return out
}

func fmtIdent(e ast.Expr) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == "format"
}

// verbs maps each argument a format uses (1-based) to its verb.
func verbs(format string) map[int]string {
	re := regexp.MustCompile(`%(?:\[(\d+)\])?[-+# 0]*\d*(?:\.\d+)?([a-zA-Z%])`)
	out := map[int]string{}
	next := 1
	for _, m := range re.FindAllStringSubmatch(format, -1) {
		if m[2] == "%" {
			continue
		}
		if m[1] != "" {
			next, _ = strconv.Atoi(m[1])
		}
		out[next] = m[2]
		next++
	}
	return out
}

// Every message a person can meet on a page has its Indonesian sentence,
// taking the same arguments with the same verbs; no translation is left
// over for a message that is gone.
func TestErrorTextsComplete(t *testing.T) {
	src := sourceFormats(t)
	if len(src) < 40 {
		t.Fatalf("found %d formats: the scan is broken", len(src))
	}
	for f, where := range src {
		id, ok := errorTexts[f]
		if !ok {
			t.Errorf("%s: no Indonesian for %q", where, f)
			continue
		}
		if a, b := verbs(f), verbs(id); !maps.Equal(a, b) {
			t.Errorf("%q and %q take different arguments: %v, %v", f, id, a, b)
		}
	}
	for f := range errorTexts {
		if _, ok := src[f]; !ok {
			t.Errorf("translation of %q: no error has that format", f)
		}
	}
}
