package classify

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/config"
)

// examplesCSV are our own labelled examples (text,opd,kind), written for
// this project. Training includes them unless --builtin=false.
//
//go:embed data/examples.csv
var examplesCSV []byte

// BuiltinExamples returns the rows of the embedded examples.
func BuiltinExamples() ([]Row, error) {
	t, err := ReadCSV(bytes.NewReader(examplesCSV))
	if err != nil {
		return nil, fmt.Errorf("builtin examples: %w", err)
	}
	return t.Rows, nil
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }

// Command runs a subcommand once the caller has parsed its flags (as it
// parses every tanggap subcommand's: -h, errors and stray arguments alike).
type Command func(ctx context.Context, stdin io.Reader, stdout io.Writer) error

func loadConfig(path string) (*config.Config, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	return cfg, nil
}

// TrainCommand is `tanggap train`: it trains a model from CSVs with columns
// text,opd[,kind][,date] and writes it. It registers its flags on fs and
// returns the command.
//
//	tanggap train --data FILE.csv [--data corrections.csv ...] [--out model.bin] [--before 2023-01-01]
func TrainCommand(fs *flag.FlagSet) Command {
	var data multiFlag
	fs.Var(&data, "data", "training CSV with columns text,opd[,kind][,date] (repeatable; corrections exported by the UI work as is)")
	out := fs.String("out", "model.bin", "where to write the model")
	before := fs.String("before", "", "use only dated rows before this date (YYYY-MM-DD); undated rows are always used")
	cfgPath := fs.String("config", "", "city config (default: the embedded Kota Bekasi config)")
	builtin := fs.Bool("builtin", true, "also train on the embedded examples written for this project")
	spec := defaultSpec()
	o := defaultTrainOptions()
	bits := fs.Uint("bits", uint(spec.Bits), "hash space in bits")
	charMax := fs.Uint("char-max", uint(spec.CharMax), "longest character n-gram (0: none)")
	charMin := fs.Uint("char-min", uint(spec.CharMin), "shortest character n-gram")
	charScale := fs.Float64("char-scale", float64(spec.CharScale), "weight of character n-grams against words")
	bigrams := fs.Bool("bigrams", spec.Bigrams, "word bigrams")
	keywords := fs.Bool("keywords", spec.Keywords, "OPD scope keywords from the config as features")
	fs.IntVar(&o.Epochs, "epochs", o.Epochs, "most passes over the data per class")
	fs.Float64Var(&o.C, "c", o.C, "SVM cost of the OPD model (larger: less regularisation)")
	fs.Float64Var(&o.KindC, "kind-c", o.KindC, "SVM cost of the kind model")
	fs.Float64Var(&o.ClassPower, "class-power", o.ClassPower, "class weight exponent (0 none, 1 balanced)")
	fs.Float64Var(&o.MinAbs, "min-abs", o.MinAbs, "prune feature rows whose largest weight is below this")
	fs.Float64Var(&o.Calibration, "calibration", o.Calibration, "share of the most recent rows held out to fit the confidence temperature (0: none)")
	return func(ctx context.Context, stdin io.Reader, stdout io.Writer) error {
		if len(data) == 0 {
			return errors.New("train: --data FILE.csv is required")
		}
		if *bits < 12 || *bits > 22 || *charMax > 8 || *charMin < 1 || *charMin > *charMax && *charMax != 0 {
			return errors.New("train: --bits must be 12..22, --char-min 1..char-max, --char-max 0..8")
		}
		spec = FeatureSpec{Bits: uint8(*bits), CharMin: uint8(*charMin), CharMax: uint8(*charMax), Bigrams: *bigrams, Keywords: *keywords, CharScale: float32(*charScale)}
		cfg, err := loadConfig(*cfgPath)
		if err != nil {
			return fmt.Errorf("train: %w", err)
		}
		var rows []Row
		var sources []string
		for _, path := range data {
			t, err := ReadCSVFile(path)
			if err != nil {
				return fmt.Errorf("train: %w", err)
			}
			if !t.HasOPD && !t.HasKind {
				return fmt.Errorf("train: %s has neither an opd nor a kind column", path)
			}
			n := 0
			for _, r := range t.Rows {
				if *before != "" && len(r.Date) >= 10 && r.Date[:10] >= *before {
					continue
				}
				if !t.HasKind && r.OPD != "" && !strings.Contains(r.Text, "?") {
					r.Kind, r.WeakKind = tanggap.KindComplaint, true
				}
				rows = append(rows, r)
				n++
			}
			sources = append(sources, fmt.Sprintf("%s (%d rows)", filepath.Base(path), n))
		}
		if *builtin {
			ex, err := BuiltinExamples()
			if err != nil {
				return fmt.Errorf("train: %w", err)
			}
			rows = append(rows, ex...)
			sources = append(sources, fmt.Sprintf("builtin examples (%d rows)", len(ex)))
		}
		m, rep, err := TrainModel(ctx, rows, cfg, spec, o)
		if err != nil {
			return err
		}
		m.Meta.Sources, m.Meta.Before = sources, *before
		f, err := os.Create(*out)
		if err != nil {
			return fmt.Errorf("train: %w", err)
		}
		size, err := m.WriteTo(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("train: write %s: %w", *out, err)
		}
		return json.NewEncoder(stdout).Encode(struct {
			Out   string   `json:"out"`
			Bytes int64    `json:"bytes"`
			Data  []string `json:"data"`
			TrainReport
		}{*out, size, sources, rep})
	}
}

func loadClassifier(modelPath, cfgPath string) (*Classifier, error) {
	cfg, err := loadConfig(cfgPath)
	if err != nil {
		return nil, err
	}
	if modelPath == "" {
		return Default(cfg)
	}
	f, err := os.Open(modelPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Load(f, cfg)
}

// EvalCommand is `tanggap eval`: it classifies a labelled CSV and prints
// one JSON object with accuracy, macro-F1, per-OPD scores, the most
// confused pairs and the speed; with a kind column it scores kind too.
//
//	tanggap eval --data FILE.csv [--model FILE] [--from 2023-01-01 --to 2023-03-31]
func EvalCommand(fs *flag.FlagSet) Command {
	data := fs.String("data", "", "CSV with columns text,opd[,kind][,date]")
	modelPath := fs.String("model", "", "model file (default: the embedded model)")
	from := fs.String("from", "", "first date to include (YYYY-MM-DD)")
	to := fs.String("to", "", "last date to include (YYYY-MM-DD)")
	cfgPath := fs.String("config", "", "city config (default: the embedded Kota Bekasi config)")
	return func(ctx context.Context, stdin io.Reader, stdout io.Writer) error {
		if *data == "" {
			return errors.New("eval: --data FILE.csv is required")
		}
		c, err := loadClassifier(*modelPath, *cfgPath)
		if err != nil {
			return fmt.Errorf("eval: %w", err)
		}
		t, err := ReadCSVFile(*data)
		if err != nil {
			return fmt.Errorf("eval: %w", err)
		}
		if !t.HasOPD && !t.HasKind {
			return fmt.Errorf("eval: %s has neither an opd nor a kind column", *data)
		}
		var rows []Row
		for _, r := range t.Rows {
			if inRange(r.Date, *from, *to) {
				rows = append(rows, r)
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rep := Evaluate(c, rows, t.HasKind)
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
}

// classifyLine is one line of tanggap classify's output.
type classifyLine struct {
	N int `json:"n"`
	Result
}

// ClassifyCommand is `tanggap classify`: one JSON line per text, from a
// CSV's text column (--data) or from stdin, one text per line.
func ClassifyCommand(fs *flag.FlagSet) Command {
	data := fs.String("data", "", "CSV with a text column (default: one text per line on stdin)")
	modelPath := fs.String("model", "", "model file (default: the embedded model)")
	cfgPath := fs.String("config", "", "city config (default: the embedded Kota Bekasi config)")
	return func(ctx context.Context, stdin io.Reader, stdout io.Writer) error {
		c, err := loadClassifier(*modelPath, *cfgPath)
		if err != nil {
			return fmt.Errorf("classify: %w", err)
		}
		bw := bufio.NewWriter(stdout)
		enc := json.NewEncoder(bw)
		emit := func(n int, text string) error {
			return enc.Encode(classifyLine{N: n, Result: c.Classify(text)})
		}
		if *data != "" {
			t, err := ReadCSVFile(*data)
			if err != nil {
				return fmt.Errorf("classify: %w", err)
			}
			for i, r := range t.Rows {
				if i%1024 == 0 {
					if err := ctx.Err(); err != nil {
						return err
					}
				}
				if err := emit(i+1, r.Text); err != nil {
					return fmt.Errorf("classify: %w", err)
				}
			}
			return bw.Flush()
		}
		sc := bufio.NewScanner(stdin)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		n := 0
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line == "" {
				continue
			}
			n++
			if err := emit(n, line); err != nil {
				return fmt.Errorf("classify: %w", err)
			}
			if n%64 == 0 {
				if err := bw.Flush(); err != nil {
					return err
				}
			}
		}
		if err := sc.Err(); err != nil {
			return fmt.Errorf("classify: stdin: %w", err)
		}
		return bw.Flush()
	}
}
