package report_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/report"
	"github.com/tanggap/tanggap/store"
)

// sourceWith wraps the store's scan: fail makes it fail once it gave the
// first batch, reverse gives each batch backwards.
type sourceWith struct {
	*store.Store
	fail    bool
	reverse bool
}

var errScan = errors.New("scan broke")

func (s *sourceWith) ScanCreatedIn(ctx context.Context, opd string, from, to time.Time, batch int64, fn func([]tanggap.Item) error) error {
	return s.Store.ScanCreatedIn(ctx, opd, from, to, batch, func(its []tanggap.Item) error {
		if s.reverse {
			slices.Reverse(its)
		}
		if err := fn(its); err != nil || !s.fail {
			return err
		}
		return errScan
	})
}

// ExportRegister writes, while reading, the files of the register built
// from LoadPeriod and Header; a scan or a destination that fails makes it
// fail without leaving goroutines; items out of T0 order end it with
// ErrRegisterOrder.
func TestExportRegister(t *testing.T) {
	ctx := context.Background()
	c := newTestCity(t)
	c.seed(t, time.February, 1300, 20)
	c.seed(t, time.March, 1300, 21)
	st, sc, p, opt := c.st, c.scope, report.Month(2026, time.March, c.loc), c.options()
	for _, scope := range []report.Scope{sc, {OPDs: sc.OPDs[:1]}} {
		d, err := report.LoadPeriod(ctx, st, p, scope)
		if err != nil {
			t.Fatal(err)
		}
		rep := report.Header(d, opt)
		for _, ro := range []report.RegisterOptions{{Lang: "id"}, {Lang: "en", Unmask: true}} {
			reg := rep.BuildRegister(d, ro)
			copt := report.CSVOptions{Lang: ro.Lang, Semicolon: ro.Lang == "id"}
			var want, got bytes.Buffer
			if err := report.WriteRegisterCSV(&want, rep, reg, copt); err != nil {
				t.Fatal(err)
			}
			if err := report.ExportRegister(ctx, &got, st, p, scope, opt, ro, "csv", copt); err != nil {
				t.Fatal(err)
			}
			if want.String() != got.String() {
				t.Fatalf("%d rows, %+v: CSV differs from WriteRegisterCSV's", len(reg.Rows), ro)
			}
			want.Reset()
			got.Reset()
			if err := report.WriteRegisterXLSX(&want, rep, reg, ro.Lang); err != nil {
				t.Fatal(err)
			}
			if err := report.ExportRegister(ctx, &got, st, p, scope, opt, ro, "xlsx", copt); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(report.UnzipParts(t, want.Bytes()), report.UnzipParts(t, got.Bytes())); diff != "" {
				t.Fatalf("%+v: XLSX differs from WriteRegisterXLSX's:\n%.2000s", ro, diff)
			}
		}
	}

	before := runtime.NumGoroutine()
	ro, copt := report.RegisterOptions{Lang: "id"}, report.CSVOptions{Lang: "id"}
	for _, format := range []string{"csv", "xlsx"} {
		err := report.ExportRegister(ctx, io.Discard, &sourceWith{Store: st, fail: true}, p, sc, opt, ro, format, copt)
		if !errors.Is(err, errScan) {
			t.Errorf("%s: a broken scan gave %v (%T)", format, err, err)
		}
		err = report.ExportRegister(ctx, io.Discard, &sourceWith{Store: st, reverse: true}, p, sc, opt, ro, format, copt)
		if !errors.Is(err, report.ErrRegisterOrder) {
			t.Errorf("%s: items out of order gave %v", format, err)
		}
		for _, n := range []int{0, 1000, 100_000} {
			if err := report.ExportRegister(ctx, report.FailWriter(n), st, p, sc, opt, ro, format, copt); err == nil {
				t.Errorf("%s: a destination broken after %d bytes gave no error", format, n)
			}
		}
	}
	if err := report.ExportRegister(ctx, io.Discard, st, p, sc, opt, ro, "pdf", copt); err == nil {
		t.Error("format pdf: no error")
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines left, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}
