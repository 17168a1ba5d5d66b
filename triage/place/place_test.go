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
		// A border row's cue beside the city name the row shares is the
		// row's side (places-border-confusions.csv, handling).
		{"jl raya pondok gede dekat halte pinang ranti rusak", Place{OutsideCity: "Halte Pinang Ranti"}},
		{"jalan rusak di jl raya pondok gede lubang buaya", Place{OutsideCity: "Lubang Buaya"}},
		{"jalan raya pondokgede arah kramat jati macet", Place{OutsideCity: "Kramat Jati"}},
		{"kramat jati macet", Place{}},
		{"banjir kalimalang dekat pondok kelapa", Place{OutsideCity: "Pondok Kelapa"}},
		{"pasar baru dekat jababeka becek", Place{OutsideCity: "Jababeka"}},
		{"pasar baru becek", Place{Kecamatan: "Bekasi Timur"}},
		{"pasar baru bekasi dekat jababeka becek", Place{Kecamatan: "Bekasi Timur"}},
		{"jl raya pondok gede rusak parah", Place{Kecamatan: "Pondokgede", Kelurahan: "Jatiwaringin"}},
		{"jl raya pondok gede kelurahan jatiwaringin dekat halte pinang ranti", Place{Kecamatan: "Pondokgede", Kelurahan: "Jatiwaringin"}},
		{"pak halim lewat jl raya pondok gede", Place{Kecamatan: "Pondokgede", Kelurahan: "Jatiwaringin"}},
		// A row marked "ask" gives no place; a kelurahan named beside it does.
		{"perumahan pondok ungu permai banjir", Place{}},
		{"perumahan pondok ungu permai kelurahan pejuang banjir", Place{Kecamatan: "Medansatria", Kelurahan: "Pejuang"}},
		{"banjir di pondok ungu", Place{Kecamatan: "Medansatria", Kelurahan: "Pejuang"}},
		// A low-confidence place does not outweigh a border row; others do.
		{"macet di jl transyogi dekat cibubur", Place{OutsideCity: "Cibubur"}},
		{"macet di jl transyogi", Place{Kecamatan: "Jatisampurna", Kelurahan: "Jatikarya"}},
		{"banjir di jl ahmad yani dan grand wisata", Place{Kecamatan: "Bekasi Selatan"}},
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

// TestBorderHandling checks that the rules come from the border table's
// handling column, not from code: a new row's rule works, and a row that
// shares no city name gets none.
func TestBorderHandling(t *testing.T) {
	wilayah := "kecamatan,kelurahan,kecamatan_aliases,kelurahan_aliases\nBantargebang,Ciketingudik,,\n"
	places := "name,aliases,kecamatan,kelurahan,confidence\n" +
		"Jl. Raya Narogong,jl raya narogong|jl narogong,Bantargebang,Ciketingudik,high\n" +
		"Jl. Pangkalan,jl pangkalan,Bantargebang,Ciketingudik,low\n"
	border := "name,aliases,actual_admin,handling\n" +
		"Narogong (Bogor),limus pratama,Kab. Bogor,'jl raya narogong' + Limus Pratama/Kembang Kuning cue -> Kab. Bogor\n" +
		"Cileungsi,cileungsi,Kab. Bogor,exclude\n" +
		"Perumahan Tengah,perumahan tengah,Kab. Bekasi,low confidence either way; ask for kelurahan\n"
	g, err := Load(strings.NewReader(wilayah), strings.NewReader(places), strings.NewReader(border))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in   string
		want Place
	}{
		{"jl narogong dekat kembang kuning rusak", Place{OutsideCity: "Kembang Kuning"}},
		{"jl narogong dekat limus pratama rusak", Place{OutsideCity: "Limus Pratama"}},
		{"jl narogong rusak", Place{Kecamatan: "Bantargebang", Kelurahan: "Ciketingudik"}},
		{"jl narogong dekat cileungsi rusak", Place{Kecamatan: "Bantargebang", Kelurahan: "Ciketingudik"}},
		{"jl pangkalan dekat cileungsi rusak", Place{OutsideCity: "Cileungsi"}},
		{"jl pangkalan dekat perumahan tengah rusak", Place{}},
		{"jl pangkalan rusak", Place{Kecamatan: "Bantargebang", Kelurahan: "Ciketingudik"}},
	}
	ignore := cmpopts.IgnoreFields(Place{}, "Matches")
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, g.Extract(tt.in), ignore); diff != "" {
			t.Errorf("Extract(%q) (-want +got):\n%s", tt.in, diff)
		}
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
