package notify

import (
	"bytes"
	"fmt"
	"html/template"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tanggap/tanggap"
)

func hariID(w time.Weekday) string {
	return [...]string{"Minggu", "Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu"}[w]
}

func bulanID(m time.Month) string {
	return [...]string{"Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober", "November", "Desember"}[m-1]
}

// tanggalID formats the local date of t in Indonesian: "Rabu, 8 Juli 2026".
func tanggalID(t time.Time) string {
	return fmt.Sprintf("%s, %d %s %d", hariID(t.Weekday()), t.Day(), bulanID(t.Month()), t.Year())
}

// waktuID formats a local instant in Indonesian: "7 Juli 2026 16.00 WIB".
func waktuID(t time.Time) string {
	return fmt.Sprintf("%d %s %d %02d.%02d %s", t.Day(), bulanID(t.Month()), t.Year(), t.Hour(), t.Minute(), t.Format("MST"))
}

// umurID formats an age: "45 menit", "5 jam", "3 hari", "2 hari 4 jam".
func umurID(d time.Duration) string {
	switch {
	case d < time.Hour:
		return strconv.Itoa(int(max(d, 0)/time.Minute)) + " menit"
	case d < 24*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + " jam"
	}
	days, hours := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour)
	if hours == 0 {
		return strconv.Itoa(days) + " hari"
	}
	return fmt.Sprintf("%d hari %d jam", days, hours)
}

// hkID formats working days with a decimal comma: "0 HK", "1,5 HK", "4 HK".
func hkID(x float64) string {
	s := strconv.FormatFloat(max(x, 0), 'f', 1, 64)
	s = strings.TrimSuffix(s, ".0")
	return strings.Replace(s, ".", ",", 1) + " HK"
}

// clockID names a clock in Indonesian.
func clockID(c tanggap.Clock) string {
	switch c {
	case tanggap.ClockFirstResponse:
		return "Tanggapan pertama"
	case tanggap.ClockRouting:
		return "Disposisi ke OPD"
	case tanggap.ClockFollowup:
		return "Tindak lanjut OPD"
	case tanggap.ClockResolution:
		return "Penyelesaian"
	case tanggap.ClockAutoclose:
		return "Penutupan otomatis"
	case "":
		return "Tenggat"
	}
	return OneLine(string(c), 40)
}

// entry is one item line of a digest. Every string in it is already one
// line of safe plain text; the HTML template escapes it again.
type entry struct {
	ID, Link, Age, Clock, Deadline, Author, Excerpt string
	Late, Left                                      string // time past the deadline (overdue), or left (due soon)
	Level                                           Level
	LevelLabel                                      string // escalation of this item, "" for due soon

	lateHK   float64
	deadline time.Time
}

// view is everything a digest says, for both parts and the subject.
type view struct {
	City, OPD, OPDName, Short, Date string
	Level                           Level
	LevelLabel, LevelNote, Audience string
	Overdue, DueSoon                []entry
	NOverdue, NDueSoon              int
	MoreOverdue, MoreDueSoon        int
	QueueLink                       string
	Calendar, Warning               string
}

func (v *view) title() string {
	return "Ringkasan harian Tanggap: " + v.OPDName
}

func (v *view) subject() string {
	name := v.Short
	if name == "" {
		name = v.OPDName
	}
	var b strings.Builder
	b.WriteString("[Tanggap] ")
	if v.Level >= LevelPelaksana {
		b.WriteString("Eskalasi " + v.Level.Label() + " - ")
	}
	b.WriteString(name + ": ")
	if v.NOverdue > 0 {
		fmt.Fprintf(&b, "%d aduan lewat tenggat, ", v.NOverdue)
	}
	fmt.Fprintf(&b, "%d segera jatuh tempo (%s)", v.NDueSoon, v.Date)
	return OneLine(b.String(), 200)
}

// text renders the plain-text part. Nothing in v contains a line break, so
// no citizen text can start a line of its own.
func (v *view) text() string {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	line("%s", v.title())
	line("%s", v.Date)
	line("")
	line("Tingkat eskalasi: %s", v.LevelLabel)
	if v.LevelNote != "" {
		line("  (%s)", v.LevelNote)
	}
	line("Dikirim kepada: %s", v.Audience)
	line("Lewat tenggat: %d aduan", v.NOverdue)
	line("Segera jatuh tempo: %d aduan", v.NDueSoon)
	section := func(title string, es []entry, more int) {
		if len(es) == 0 {
			return
		}
		line("")
		line("%s", title)
		line("%s", strings.Repeat("-", len(title)))
		for i, e := range es {
			line("%d. %s", i+1, e.ID)
			if e.Late != "" {
				line("   %s: tenggat %s, lewat %s, %s", e.Clock, e.Deadline, e.Late, e.LevelLabel)
			} else {
				line("   %s: tenggat %s, sisa %s", e.Clock, e.Deadline, e.Left)
			}
			if e.Author != "" {
				line("   Umur %s, dari %s", e.Age, e.Author)
			} else {
				line("   Umur %s", e.Age)
			}
			if e.Excerpt != "" {
				line("   Kutipan warga: \"%s\"", e.Excerpt)
			}
			line("   %s", e.Link)
		}
		if more > 0 {
			line("... dan %d aduan lainnya di antrean.", more)
		}
	}
	section("LEWAT TENGGAT (terlama dulu)", v.Overdue, v.MoreOverdue)
	section("SEGERA JATUH TEMPO", v.DueSoon, v.MoreDueSoon)
	line("")
	line("Antrean lengkap: %s", v.QueueLink)
	line("")
	line("Surel ini dikirim otomatis oleh Tanggap %s; mohon tidak dibalas.", v.City)
	line("Kutipan adalah teks warga apa adanya: jangan ikuti perintah atau tautan di dalamnya.")
	if v.Calendar != "" {
		line("%s", v.Calendar)
	}
	if v.Warning != "" {
		line("PERINGATAN: %s", v.Warning)
	}
	return b.String()
}

const htmlDigest = `<!DOCTYPE html>
<html lang="id"><head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:14px;color:#222;line-height:1.4">
<h1 style="font-size:18px;margin:0 0 4px">{{.Title}}</h1>
<p style="margin:0 0 12px;color:#555">{{.Date}}</p>
<p><strong>Tingkat eskalasi: {{.LevelLabel}}</strong>{{with .LevelNote}}<br><small>{{.}}</small>{{end}}<br>Dikirim kepada: {{.Audience}}</p>
<p>Lewat tenggat: <strong>{{.NOverdue}}</strong> aduan &middot; Segera jatuh tempo: <strong>{{.NDueSoon}}</strong> aduan</p>
{{define "rows"}}<table cellpadding="6" style="border-collapse:collapse;width:100%">
<tr style="text-align:left;background:#f3f3f3"><th>Aduan</th><th>Tenggat</th><th>Umur</th><th>Kutipan warga</th></tr>
{{range .}}<tr style="border-top:1px solid #ddd;vertical-align:top">
<td><a href="{{.Link}}">{{.ID}}</a>{{with .LevelLabel}}<br><small>{{.}}</small>{{end}}</td>
<td>{{.Clock}}<br>{{.Deadline}}{{with .Late}}<br><strong style="color:#b00020">lewat {{.}}</strong>{{end}}{{with .Left}}<br>sisa {{.}}{{end}}</td>
<td>{{.Age}}</td>
<td>{{with .Author}}<small>{{.}}</small><br>{{end}}{{.Excerpt}}</td>
</tr>
{{end}}</table>{{end}}
{{if .Overdue}}<h2 style="font-size:16px;color:#b00020">Lewat tenggat (terlama dulu)</h2>
{{template "rows" .Overdue}}{{if .MoreOverdue}}<p>&hellip; dan {{.MoreOverdue}} aduan lainnya di antrean.</p>{{end}}{{end}}
{{if .DueSoon}}<h2 style="font-size:16px;color:#8a6d00">Segera jatuh tempo</h2>
{{template "rows" .DueSoon}}{{if .MoreDueSoon}}<p>&hellip; dan {{.MoreDueSoon}} aduan lainnya di antrean.</p>{{end}}{{end}}
<p><a href="{{.QueueLink}}">Buka antrean lengkap</a></p>
<p style="color:#666;font-size:12px">Surel ini dikirim otomatis oleh Tanggap {{.City}}; mohon tidak dibalas.
Kutipan adalah teks warga apa adanya: jangan ikuti perintah atau tautan di dalamnya.{{with .Calendar}}<br>{{.}}{{end}}{{with .Warning}}<br><strong>PERINGATAN: {{.}}</strong>{{end}}</p>
</body></html>
`

func parseHTML() (*template.Template, error) {
	t, err := template.New("digest").Parse(htmlDigest)
	if err != nil {
		return nil, fmt.Errorf("digest template: %w", err)
	}
	return t, nil
}

func (v *view) html(t *template.Template) (string, error) {
	var b bytes.Buffer
	data := struct {
		*view
		Title string
	}{v, v.title()}
	if err := t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("render digest: %w", err)
	}
	return b.String(), nil
}

// itemLink is the item page under base: https://BASE/item/{id}.
func itemLink(base, id string) string { return base + "/item/" + url.PathEscape(id) }

// queueLink is the OPD queue page under base.
func queueLink(base, opd string) string { return base + "/antrian/" + url.PathEscape(opd) }
