package classify

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// modelMagic starts every model file (inside the gzip stream).
const modelMagic = "tanggap-classify-model\x00"

// modelVersion changes when the file layout or the feature extraction
// changes incompatibly.
const modelVersion = 1

// Meta describes a trained model. It is stored as JSON in the model file.
type Meta struct {
	Version  int          `json:"version"`
	Spec     FeatureSpec  `json:"spec"`
	Created  string       `json:"created"`             // RFC 3339
	Sources  []string     `json:"sources"`             // base names of the training CSVs
	Before   string       `json:"before,omitempty"`    // rows dated on or after this were left out
	OPDRows  int          `json:"opd_rows"`            // training rows with an OPD label
	KindRows int          `json:"kind_rows"`           // training rows with a kind label
	PJULabel string       `json:"pju_label,omitempty"` // the OPD label street-light complaints carry in the training data
	Options  TrainOptions `json:"options"`
}

// Model is a trained OPD model and kind model with their feature spec.
type Model struct {
	Meta Meta
	tab  *table
	opd  *head
	kind *head // nil when the model was trained without kind labels
}

// newModel wires the heads of a table: the first is the OPD head, the
// second (optional) the kind head.
func newModel(meta Meta, t *table) *Model {
	m := &Model{Meta: meta, tab: t, opd: t.heads[0]}
	if len(t.heads) > 1 {
		m.kind = t.heads[1]
	}
	return m
}

// WriteTo writes the model as a gzip-compressed binary file.
func (m *Model) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	zw, err := gzip.NewWriterLevel(cw, gzip.BestCompression)
	if err != nil {
		return 0, err
	}
	bw := bufio.NewWriter(zw)
	meta, err := json.Marshal(m.Meta)
	if err != nil {
		return 0, err
	}
	bw.WriteString(modelMagic)
	putUvarint(bw, uint64(len(meta)))
	bw.Write(meta)
	m.tab.writeTo(bw)
	if err := bw.Flush(); err != nil {
		return cw.n, err
	}
	if err := zw.Close(); err != nil {
		return cw.n, err
	}
	return cw.n, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// ReadModel reads a model file written by WriteTo.
func ReadModel(r io.Reader) (*Model, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("read model: %w", err)
	}
	defer zr.Close()
	br := bufio.NewReader(zr)
	magic := make([]byte, len(modelMagic))
	if _, err := io.ReadFull(br, magic); err != nil || !bytes.Equal(magic, []byte(modelMagic)) {
		return nil, errors.New("read model: not a tanggap classifier model")
	}
	var m struct{ Meta Meta }
	metaJSON, err := readString(br)
	if err != nil {
		return nil, fmt.Errorf("read model: meta: %w", err)
	}
	if err := json.Unmarshal([]byte(metaJSON), &m.Meta); err != nil {
		return nil, fmt.Errorf("read model: meta: %w", err)
	}
	if m.Meta.Version != modelVersion {
		return nil, fmt.Errorf("read model: version %d, this build reads %d: retrain with tanggap train", m.Meta.Version, modelVersion)
	}
	if s := m.Meta.Spec; s.Bits < 8 || s.Bits > 24 || s.CharMin > s.CharMax || s.CharMax > 8 {
		return nil, fmt.Errorf("read model: bad feature spec %+v", s)
	}
	t, err := readTable(br)
	if err != nil {
		return nil, fmt.Errorf("read model: %w", err)
	}
	if t.bits != m.Meta.Spec.Bits {
		return nil, errors.New("read model: weights and feature spec disagree")
	}
	return newModel(m.Meta, t), nil
}

// Labels lists the OPD labels the model knows.
func (m *Model) Labels() []string { return append([]string(nil), m.opd.labels...) }
