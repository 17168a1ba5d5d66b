package notify

import (
	"strings"
	"testing"
)

func TestOneLine(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{"  Jalan\r\nrusak\tparah  ", 0, "Jalan rusak parah"},
		{"a\u2028b\u2029c\x00d\x1be", 0, "a b c d e"},
		{"abc\u202Eevil\u200Bx", 0, "abcevilx"}, // bidi override, zero width space
		{"bad \xff\xfe utf8", 0, "bad \uFFFD\uFFFD utf8"},
		{"Sampah menumpuk di jalan", 10, "Sampah me…"},
		{"Sampah    menumpuk", 8, "Sampah…"},
		{"1234567890", 10, "1234567890"},
		{"12345678901", 10, "123456789…"},
		{"Bcc: evil@x\r\n\r\n<script>", 0, "Bcc: evil@x <script>"},
		{"\n\n", 5, ""},
	} {
		if got := OneLine(tc.in, tc.max); got != tc.want {
			t.Errorf("OneLine(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
		if got := OneLine(tc.in, tc.max); tc.max > 0 && len([]rune(got)) > tc.max {
			t.Errorf("OneLine(%q, %d) has %d runes", tc.in, tc.max, len([]rune(got)))
		}
	}
	long := strings.Repeat("ab\r\n", 10000)
	if got := OneLine(long, 140); len([]rune(got)) != 140 || strings.ContainsAny(got, "\r\n") {
		t.Errorf("long text: %q", got)
	}
}

func TestCheckAddress(t *testing.T) {
	good, err := CheckAddress(Address{Name: "Admin\r\nBcc: x@y", Email: " admin.dlh@bekasikota.go.id "})
	if err != nil || good.Email != "admin.dlh@bekasikota.go.id" || good.Name != "Admin Bcc: x@y" {
		t.Errorf("CheckAddress = %+v, %v", good, err)
	}
	for _, bad := range []string{"", "nobody", "a@", "@b.test", "a@b@c.test", "a b@c.test", "<a@b.test>", "a@b.test>", "a@b.test\nx", "ä@b.test", "a@b.test;c@d.test"} {
		if _, err := CheckAddress(Address{Email: bad}); err == nil {
			t.Errorf("CheckAddress(%q) accepted", bad)
		}
	}
}
