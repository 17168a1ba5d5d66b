package report

import (
	"strconv"
	"strings"
	"time"
)

// Decimal formats v with dec decimals; Bahasa Indonesia ("id") uses a
// decimal comma, English a decimal point. There are no thousands
// separators, so spreadsheets read the numbers back.
func Decimal(v float64, dec int, lang string) string {
	s := strconv.FormatFloat(v, 'f', dec, 64)
	if s == "-0" || strings.HasPrefix(s, "-0.") && strings.Trim(s[3:], "0") == "" {
		s = s[1:] // no "-0,0"
	}
	if lang != "en" {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

// Dash stands for a figure that is not defined (no denominator, no data).
const Dash = "-"

// Pct formats a share (0..1) as a percentage with one decimal, "85,3%",
// or Dash when it is not defined.
func Pct(v float64, ok bool, lang string) string {
	if !ok {
		return Dash
	}
	return Decimal(v*100, 1, lang) + "%"
}

// Hours formats a duration in hours with one decimal, or Dash when n is 0.
func Hours(d time.Duration, n int, lang string) string {
	if n == 0 {
		return Dash
	}
	return Decimal(d.Hours(), 1, lang)
}

// HK formats working days with one decimal, or Dash when ok is false.
func HK(v float64, ok bool, lang string) string {
	if !ok {
		return Dash
	}
	return Decimal(v, 1, lang)
}
