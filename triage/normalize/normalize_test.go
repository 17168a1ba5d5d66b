package normalize

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestNormalize(t *testing.T) {
	n, err := New()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		in       string
		tokens   []string
		mentions []string
		hashtags []string
	}{
		{"case and slang", "Jln RUSAK bgt yg di depan", []string{"jalan", "rusak", "banget", "yang", "di", "depan"}, nil, nil},
		{"elongation", "bangeeet tolooong maaaaf", []string{"banget", "tolong", "maaf"}, nil, nil},
		{"reduplication", "anak2 main di jalan2", []string{"anak", "anak", "main", "di", "jalan", "jalan"}, nil, nil},
		{"negation slang", "air gak ngalir, ga ada info", []string{"air", "tidak", "mengalir", "tidak", "ada", "info"}, nil, nil},
		{"url", "cek https://bekasikota.go.id/x?y=1 ya", []string{"cek", MaskURL, "ya"}, nil, nil},
		{"mention and hashtag", "@dishubbekasikota macet #BekasiMacet", []string{MaskMention, "macet", "bekasimacet"}, []string{"dishubbekasikota"}, []string{"bekasimacet"}},
		{"mention with trailing dot", "tolong @dinsos.kotabekasi.", []string{"tolong", MaskMention}, []string{"dinsos.kotabekasi"}, nil},
		{"phone", "hub 0812-3456-7890 atau +62 812 3456 7890", []string{"hubungi", MaskPhone, "atau", MaskPhone}, nil, nil},
		{"nik and money", "nik 3275012345678901 bayar rp 50.000", []string{"nik", MaskNIK, "bayar", "rp", MaskNum}, nil, nil},
		{"upstream masks", "telp [PHONE] nik [NIK]", []string{"telp", "[phone]", "nik", "[nik]"}, nil, nil},
		{"small numbers kept", "rt 03 rw 5 lpg 3kg", []string{"rt", "03", "rw", "5", "lpg", "3kg"}, nil, nil},
		{"email", "kirim ke warga@contoh.id ya", []string{"kirim", "ke", MaskEmail, "ya"}, nil, nil},
		{"emoji classes", "mantap 👍👍 tapi 😡 🙏", []string{"mantap", EmojiPositive, "tapi", EmojiNegative, EmojiPray}, nil, nil},
		{"laugh and question", "wkwkwk kapan diperbaiki??", []string{MaskLaugh, "kapan", "diperbaiki", MaskQuestion}, nil, nil},
		{"kel forms", "kel.jatiasih kec.jatiasih", []string{"kel", "jatiasih", "kec", "jatiasih"}, nil, nil},
		{"empty", "  ", []string{}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := n.Normalize(tt.in)
			if diff := cmp.Diff(tt.tokens, d.Tokens); diff != "" {
				t.Errorf("Tokens (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.mentions, d.Mentions); diff != "" {
				t.Errorf("Mentions (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.hashtags, d.Hashtags); diff != "" {
				t.Errorf("Hashtags (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCollapse(t *testing.T) {
	for in, want := range map[string]string{
		"bangeeet": "banget", "sampahhh": "sampah", "maaaaf": "maaf", "saaaat": "saat", "tolong": "tolong",
		"jatiranggon": "jatiranggon", "ssst": "st", "aaa": "a",
	} {
		if got := Collapse(in); got != want {
			t.Errorf("Collapse(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSlangTable(t *testing.T) {
	n, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if n.Len() < 300 {
		t.Errorf("slang table has %d pairs, want at least 300", n.Len())
	}
	// Civic abbreviations must not be rewritten into everyday words.
	for _, w := range []string{"kk", "kel", "kec", "gg", "smp", "sma", "rt", "rw", "pln", "bpjs", "pkm"} {
		if f, ok := n.Slang(w); ok {
			t.Errorf("slang table maps %q to %q", w, f)
		}
	}
	if _, err := ParseSlang(strings.NewReader("nope\n")); err == nil {
		t.Error("ParseSlang accepted a line without a tab")
	}
}

func FuzzNormalize(f *testing.F) {
	n, err := New()
	if err != nil {
		f.Fatal(err)
	}
	f.Add("min jalannya rusakkk bangeeet @dishub #bekasi 0812-3456-7890 https://x.y 😡")
	f.Add("[PHONE] [nik] anak2 wkwk ??")
	f.Fuzz(func(t *testing.T, s string) {
		d := n.Normalize(s)
		for _, tok := range append(d.Words, d.Tokens...) {
			if tok == "" {
				t.Fatalf("empty token from %q", s)
			}
			if !utf8.ValidString(tok) {
				t.Fatalf("invalid UTF-8 token %q from %q", tok, s)
			}
			if strings.ContainsAny(tok, " \t\n") {
				t.Fatalf("token with space %q from %q", tok, s)
			}
		}
		for _, m := range d.Mentions {
			if m == "" || strings.HasPrefix(m, "@") {
				t.Fatalf("bad mention %q from %q", m, s)
			}
		}
		if len(d.Words) > len(s)+1 {
			t.Fatalf("%d words from %d bytes", len(d.Words), len(s))
		}
	})
}

// NormalizeInto reuses a Doc's memory: whatever an earlier, longer text
// left there must not show through.
func TestNormalizeIntoReuse(t *testing.T) {
	n, err := New()
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{
		"@dishubbekasikota lampu merah mati #macet #BekasiMacet, jln rusak bgt yg di depan, tolong!!",
		"sampah numpuk",
		"",
		"@dinsos.kotabekasi anak2 gak dapet bansos?",
		"ok",
	}
	var d Doc
	for _, text := range texts {
		n.NormalizeInto(text, &d)
		want := n.Normalize(text)
		if diff := cmp.Diff(want, d, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%q: NormalizeInto differs from Normalize (-want +got):\n%s", text, diff)
		}
	}
}
