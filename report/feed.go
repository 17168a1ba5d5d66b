package report

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/tanggap/tanggap"
)

// The register's writers read its rows chunk by chunk (registerSegment
// rows each, the last one shorter), so that they can write a register that
// is still being read from the store (ExportRegister) as well as a built
// one.
type rowChunks interface {
	// chunk returns rows [k*registerSegment, (k+1)*registerSegment), waiting
	// until they are there; nil after the last row.
	chunk(k int) ([]RegisterRow, error)
}

// builtRows serves a built register.
type builtRows []RegisterRow

func (r builtRows) chunk(k int) ([]RegisterRow, error) {
	lo := k * registerSegment
	if lo >= len(r) {
		return nil, nil
	}
	return r[lo:min(lo+registerSegment, len(r))], nil
}

// registerFeed is a register one goroutine adds rows to while another
// writes them out. Rows are published a chunk at a time; published chunks
// never change.
type registerFeed struct {
	mu     sync.Mutex
	cond   sync.Cond
	chunks [][]RegisterRow
	done   bool
	err    error

	cur []RegisterRow // the chunk being filled (the adding goroutine's)
}

func newRegisterFeed() *registerFeed {
	f := &registerFeed{}
	f.cond.L = &f.mu
	return f
}

func (f *registerFeed) add(row *RegisterRow) {
	if f.cur == nil {
		f.cur = make([]RegisterRow, 0, registerSegment)
	}
	f.cur = append(f.cur, *row)
	if len(f.cur) == registerSegment {
		f.publish()
	}
}

func (f *registerFeed) publish() {
	f.mu.Lock()
	f.chunks = append(f.chunks, f.cur)
	f.mu.Unlock()
	f.cur = nil
	f.cond.Broadcast()
}

// finish publishes the last rows and ends the register, with the error
// that ended it early, if any.
func (f *registerFeed) finish(err error) {
	if len(f.cur) > 0 {
		f.publish()
	}
	f.mu.Lock()
	f.done, f.err = true, err
	f.mu.Unlock()
	f.cond.Broadcast()
}

func (f *registerFeed) chunk(k int) ([]RegisterRow, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k >= len(f.chunks) && !f.done {
		f.cond.Wait()
	}
	if f.err != nil {
		return nil, f.err
	}
	if k < len(f.chunks) {
		return f.chunks[k], nil
	}
	return nil, nil
}

// ErrRegisterOrder ends ExportRegister when the store gives the period's
// items out of T0 order (an item whose stored platform time differs from
// its index score): the caller then builds the register with
// LoadPeriod and BuildRegister, which sorts.
var ErrRegisterOrder = errors.New("report: items out of T0 order")

// ExportRegister writes the detail register of period p and scope sc as
// format ("csv" or "xlsx"), the very file WriteRegisterCSV or
// WriteRegisterXLSX writes for the register of LoadPeriod's data, but
// while reading it: the rows are built and written as the store gives the
// items, so that reading (mostly the store's work) and writing (ours)
// overlap. After an error, w may hold part of the file.
func ExportRegister(ctx context.Context, w io.Writer, src Source, p Period, sc Scope, opt Options, ro RegisterOptions, format string,
	copt CSVOptions) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if format != "csv" && format != "xlsx" {
		return fmt.Errorf("report: register format %q", format)
	}
	rep := Header(&Data{Period: p, Scope: sc}, opt)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	f := newRegisterFeed()
	filled := make(chan struct{})
	go func() {
		defer close(filled)
		f.finish(rep.fillRegister(ctx, src, sc, ro, f))
	}()
	var err error
	if format == "csv" {
		err = writeRegisterCSV(w, rep, f, ro.Unmask, copt)
	} else {
		err = writeRegisterXLSX(w, rep, f, ro.Unmask, ro.Lang)
	}
	cancel() // a writer that failed leaves the reading to stop
	<-filled
	return err
}

// fillRegister reads the period's items of the scope and adds their rows
// to f, as BuildRegister lists them.
func (r *Report) fillRegister(ctx context.Context, src Source, sc Scope, ro RegisterOptions, f *registerFeed) error {
	names := map[string]string{}
	for _, o := range sc.OPDs {
		names[o.Code] = o.Name
	}
	lb := &labels{lang: ro.Lang, names: names, m: map[string]string{}, mask: newMasker(ro)}
	keep, p := sc.keep(), r.Period
	var last *tanggap.Item
	var row RegisterRow
	return src.ScanCreatedIn(ctx, sc.source(), p.From, p.To, scanBatch, func(its []tanggap.Item) error {
		for i := range its {
			it := &its[i]
			if !keep(it) || !p.Contains(it.CreatedAt) {
				continue
			}
			if last != nil && byT0(last, it) >= 0 {
				return ErrRegisterOrder
			}
			last = it
			r.registerRow(&row, it, lb, ro)
			f.add(&row)
		}
		return nil
	})
}
