package place

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestExtract(t *testing.T) {
	g, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in   string
		want Place
	}{
		{"jalan rusak di jl. ahmad yani dekat pekayon", Place{Kecamatan: "Bekasi Selatan", Kelurahan: "Pekayonjaya"}},
		{"banjir di kel.jatiasih rt03/rw 05", Place{Kecamatan: "Jatiasih", Kelurahan: "Jatiasih", RT: "03", RW: "05"}},
		{"banjir di kec. jatiasih", Place{Kecamatan: "Jatiasih"}},
		{"lampu mati di Jati Asih RT 3 RW 12", Place{Kecamatan: "Jatiasih", RT: "03", RW: "12"}},
		{"Kelurahan Jatiwaringn kec pondok gede", Place{Kecamatan: "Pondokgede", Kelurahan: "Jatiwaringin"}},
		{"kel. kayuringin jaya", Place{Kecamatan: "Bekasi Selatan", Kelurahan: "Kayuringinjaya"}},
		{"kec.rawa lumbu", Place{Kecamatan: "Rawalumbu"}},
		{"sampah numpuk di cibubur", Place{OutsideCity: "Cibubur"}},
		{"banjir di grand wisata tambun", Place{OutsideCity: "Grand Wisata"}},
		{"sampah di kota wisata cibubur, kelurahan jatikarya", Place{Kecamatan: "Jatisampurna", Kelurahan: "Jatikarya"}},
		{"stasiun lrt bekasi barat kotor", Place{Kecamatan: "Bekasi Selatan", Kelurahan: "Pekayonjaya"}},
		{"perumahan galaxy banjir lagi", Place{Kecamatan: "Bekasi Selatan"}},
		{"harapan baru untuk kota bekasi", Place{}},
		{"semangat para pejuang kemerdekaan", Place{}},
		{"warga di pejuang medan satria resah", Place{Kecamatan: "Medansatria", Kelurahan: "Pejuang"}},
		{"rt.04/rw.011 bintara jaya", Place{Kecamatan: "Bekasi Barat", Kelurahan: "Bintarajaya", RT: "04", RW: "11"}},
		{"", Place{}},
	}
	ignore := cmpopts.IgnoreFields(Place{}, "Matches")
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, g.Extract(tt.in), ignore); diff != "" {
				t.Errorf("Extract(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestDeterministic(t *testing.T) {
	g, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	in := "genangan di kalimalang dekat cikunir dan bulak kapal"
	first := g.Extract(in)
	for range 50 {
		if diff := cmp.Diff(first, g.Extract(in)); diff != "" {
			t.Fatalf("Extract is not deterministic:\n%s", diff)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	_, err := Load(strings.NewReader("a,b\n"), strings.NewReader(""), strings.NewReader(""))
	if err == nil {
		t.Error("Load accepted a wilayah file without the expected columns")
	}
}

func TestKecamatans(t *testing.T) {
	g, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(g.Kecamatans()); n != 12 {
		t.Errorf("%d kecamatan, want 12", n)
	}
}

func FuzzPlace(f *testing.F) {
	g, err := Default()
	if err != nil {
		f.Fatal(err)
	}
	kecs := map[string]bool{}
	for _, k := range g.Kecamatans() {
		kecs[k] = true
	}
	f.Add("banjir di kel.jatiasih rt03/rw 05")
	f.Add("kec kec kel kel rt rw 999 jl jl jl")
	f.Fuzz(func(t *testing.T, s string) {
		p := g.Extract(s)
		if p.Kecamatan != "" && !kecs[p.Kecamatan] {
			t.Fatalf("unknown kecamatan %q from %q", p.Kecamatan, s)
		}
		if p.Kelurahan != "" && p.Kecamatan == "" {
			t.Fatalf("kelurahan %q without kecamatan from %q", p.Kelurahan, s)
		}
		if p.OutsideCity != "" && p.Kecamatan != "" {
			t.Fatalf("outside city %q and kecamatan %q from %q", p.OutsideCity, p.Kecamatan, s)
		}
		for _, v := range []string{p.RT, p.RW} {
			if v != "" && (len(v) < 2 || len(v) > 3) {
				t.Fatalf("bad RT/RW %q from %q", v, s)
			}
		}
		for _, m := range p.Matches {
			if !utf8.ValidString(m) {
				t.Fatalf("invalid match %q", m)
			}
		}
	})
}
