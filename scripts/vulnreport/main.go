// Command vulnreport reads govulncheck's -format json stream on stdin, prints
// the vulnerabilities whose vulnerable symbols our code reaches (with one
// example call trace each) and the count of those only imported or required,
// and exits 1 when a reachable one must fail the build.
//
//	govulncheck -format json ./... | go run ./scripts/vulnreport -stdlib fail
//
// -stdlib warn reports standard-library findings (fixed only by a newer Go
// toolchain) without failing; third-party findings always fail.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// The parts of govulncheck's JSON messages (golang.org/x/vuln/internal/govulncheck) used here.
type message struct {
	Config *struct {
		ScannerVersion string `json:"scanner_version"`
		DB             string `json:"db"`
		GoVersion      string `json:"go_version"`
	} `json:"config"`
	OSV *struct {
		ID      string `json:"id"`
		Summary string `json:"summary"`
	} `json:"osv"`
	Finding *finding `json:"finding"`
}

type finding struct {
	OSV          string  `json:"osv"`
	FixedVersion string  `json:"fixed_version"`
	Trace        []frame `json:"trace"`
}

type frame struct {
	Module   string `json:"module"`
	Version  string `json:"version"`
	Package  string `json:"package"`
	Function string `json:"function"`
	Receiver string `json:"receiver"`
	Position *struct {
		Filename string `json:"filename"`
		Line     int    `json:"line"`
	} `json:"position"`
}

func (f frame) String() string {
	name := f.Package
	if f.Function != "" {
		fn := f.Function
		if f.Receiver != "" {
			fn = strings.TrimPrefix(f.Receiver, "*") + "." + fn
		}
		name += "." + fn
	}
	if f.Position != nil && f.Position.Filename != "" {
		name += fmt.Sprintf(" (%s:%d)", f.Position.Filename, f.Position.Line)
	}
	return name
}

func main() {
	stdlib := flag.String("stdlib", "fail", "standard-library findings: fail or warn")
	flag.Parse()
	if *stdlib != "fail" && *stdlib != "warn" {
		fmt.Fprintln(os.Stderr, "vulnreport: -stdlib must be fail or warn")
		os.Exit(2)
	}
	failed, err := report(os.Stdin, os.Stdout, *stdlib == "warn")
	if err != nil {
		fmt.Fprintln(os.Stderr, "vulnreport:", err)
		os.Exit(2)
	}
	if failed {
		os.Exit(1)
	}
}

func report(r io.Reader, w io.Writer, stdlibWarn bool) (failed bool, err error) {
	dec := json.NewDecoder(r)
	summaries := map[string]string{}
	reachable := map[string]finding{} // by OSV id: first symbol-level finding
	other := map[string]bool{}        // imported or required only
	var scanner, db, goVersion string
	for {
		var m message
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return false, fmt.Errorf("decode govulncheck output: %w", err)
		}
		switch {
		case m.Config != nil:
			scanner, db, goVersion = m.Config.ScannerVersion, m.Config.DB, m.Config.GoVersion
		case m.OSV != nil:
			summaries[m.OSV.ID] = m.OSV.Summary
		case m.Finding != nil && len(m.Finding.Trace) > 0:
			f := *m.Finding
			if f.Trace[0].Function != "" {
				if _, ok := reachable[f.OSV]; !ok {
					reachable[f.OSV] = f
				}
			} else {
				other[f.OSV] = true
			}
		}
	}
	if scanner == "" {
		return false, errors.New("no config message: is this govulncheck -format json output?")
	}
	fmt.Fprintf(w, "govulncheck %s, database %s, %s\n", scanner, db, goVersion)
	ids := make([]string, 0, len(reachable))
	for id := range reachable {
		ids = append(ids, id)
		delete(other, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		f := reachable[id]
		vuln := f.Trace[0]
		where := fmt.Sprintf("%s@%s, fixed in %s", vuln.Module, vuln.Version, f.FixedVersion)
		verdict := "FAIL"
		if vuln.Module == "stdlib" {
			where = fmt.Sprintf("Go standard library %s, fixed in Go %s (needs a newer toolchain)", vuln.Version, f.FixedVersion)
			if stdlibWarn {
				verdict = "WARN"
			}
		}
		if verdict == "FAIL" {
			failed = true
		}
		fmt.Fprintf(w, "%s %s: %s\n    %s; example trace:\n", verdict, id, summaries[id], where)
		for i := len(f.Trace) - 1; i >= 0; i-- {
			fmt.Fprintf(w, "      %s\n", f.Trace[i])
		}
	}
	fmt.Fprintf(w, "%d vulnerabilities reachable from our code; %d more in packages or modules we use but do not call\n", len(ids), len(other))
	return failed, nil
}
