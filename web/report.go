package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/report"
	"github.com/tanggap/tanggap/store"
)

// reportMessages are the UI strings of the report pages: Bahasa Indonesia
// first, English second. Column names, formulas and chart titles come from
// the report package, so the page, the print page and the exports say the
// same thing.
var reportMessages = map[string][2]string{
	"report":          {"Laporan", "Report"},
	"report_title":    {"Laporan Tindak Lanjut Aduan Media Sosial", "Social-media complaint follow-up report"},
	"period":          {"Periode", "Period"},
	"month":           {"Bulan", "Month"},
	"from":            {"Dari tanggal", "From"},
	"to":              {"Sampai tanggal", "To"},
	"or":              {"atau", "or"},
	"opd_all":         {"Semua perangkat daerah", "All departments"},
	"show":            {"Tampilkan", "Show"},
	"as_of":           {"Posisi data per", "Data as of"},
	"scope":           {"Cakupan", "Scope"},
	"charts":          {"Grafik", "Charts"},
	"downloads":       {"Unduh", "Download"},
	"recap":           {"Rekap", "Recap"},
	"register":        {"Register rinci", "Detail register"},
	"csv_comma":       {"CSV (pemisah koma)", "CSV (comma)"},
	"csv_semicolon":   {"CSV (pemisah titik koma, Excel berbahasa Indonesia)", "CSV (semicolon, Indonesian-locale Excel)"},
	"xlsx":            {"XLSX", "XLSX"},
	"unmasked":        {"Tanpa penyamaran identitas pelapor", "With reporter identities unmasked"},
	"unmasked_warn":   {"Hanya untuk PPID Utama. Berisi data pribadi; setiap unduhan dicatat.", "PPID Utama only. Holds personal data; every download is logged."},
	"masked_note":     {"Identitas pelapor pada register disamarkan (2 karakter awal dan 2 karakter akhir), juga @akun di ringkasan dan nama akun di tautan.", "Reporter identities in the register are masked (first 2 and last 2 characters), and so are @handles in the summaries and handles in the links."},
	"print":           {"Versi cetak (A4)", "Print version (A4)"},
	"print_hint":      {"Cetak dengan menu Cetak di peramban (Ctrl+P), kertas A4 mendatar.", "Print with the browser's Print menu (Ctrl+P), A4 landscape."},
	"back_report":     {"Kembali ke laporan", "Back to the report"},
	"formulas":        {"Rumus yang dipakai", "Formulas used"},
	"notes":           {"Keterangan", "Notes"},
	"rank_note":       {"OPD dengan kurang dari %d aduan diterima tidak diberi peringkat: belum cukup data.", "Departments with fewer than %d received complaints are not ranked: not enough data."},
	"follow_note":     {"Persentase tindak lanjut di laporan ini = Dijawab ÷ Perlu jawaban × 100% (lihat Rumus).", "\"% followed up\" in this report = Answered ÷ Need an answer × 100% (see Formulas)."},
	"hours":           {"jam", "hours"},
	"working_hours":   {"jam kerja", "working hours"},
	"statuses":        {"Status saat ini dari aduan yang diterima", "Current status of the complaints received"},
	"first_response":  {"Tanggapan pertama", "First response"},
	"page":            {"Halaman", "Page"},
	"generated_by":    {"Dibuat oleh Tanggap", "Made by Tanggap"},
	"formulas_at_end": {"rumus: lihat Keterangan", "formulas: see Notes"},
}

func (s *Server) rt(r *http.Request, key string) string {
	return inLang(reportMessages, key, lang(r), key)
}

// reportRoutes registers the report pages and exports. s.page signs the
// person in and refuses the operator role; reportRequest applies the rest
// of the role rules.
func (s *Server) reportRoutes() {
	s.page("GET /laporan", "report", s.reportPage)
	s.page("GET /laporan/cetak", "report_print", s.reportPrint)
	s.page("GET /laporan/rekap.csv", "report_recap_csv", s.reportExport("recap", "csv"))
	s.page("GET /laporan/rekap.xlsx", "report_recap_xlsx", s.reportExport("recap", "xlsx"))
	s.page("GET /laporan/register.csv", "report_register_csv", s.reportExport("register", "csv"))
	s.page("GET /laporan/register.xlsx", "report_register_xlsx", s.reportExport("register", "xlsx"))
}

// reportReq is a parsed, authorised report request.
type reportReq struct {
	period    report.Period
	scope     report.Scope
	opd       string // the OPD filter as asked ("" for all the viewer may see)
	month     string // picker values
	from, to  string
	semicolon bool
	unmask    bool
}

// reportRequest reads the query (month=YYYY-MM, or from and to as
// YYYY-MM-DD, both days included, which win over month; opd=CODE;
// sep=semicolon; unmask=1) and
// applies the role rules: only the PPID Utama sees every OPD and may ask
// for reporters unmasked; an OPD's roles see their own OPD only.
func (s *Server) reportRequest(r *http.Request, p *Principal) (*reportReq, error) {
	q := r.URL.Query()
	loc := s.loc
	rq := &reportReq{month: q.Get("month"), from: q.Get("from"), to: q.Get("to"), opd: q.Get("opd")}
	var err error
	// from and to, when given, win over month: the picker form sends the
	// month it was prefilled with along with a date range.
	switch {
	case rq.from != "" || rq.to != "":
		if rq.from == "" || rq.to == "" {
			return nil, tanggap.Errorf(tanggap.EINVALID, "from and to go together (YYYY-MM-DD, both days included)")
		}
		rq.month = ""
		rq.period, err = report.ParseDays(rq.from, rq.to, loc)
	case rq.month != "":
		rq.period, err = report.ParseMonth(rq.month, loc)
	default:
		rq.period = report.MonthOf(s.opt.Now(), loc)
		rq.month = rq.period.From.In(loc).Format("2006-01")
	}
	if err != nil {
		return nil, err
	}
	if err := rq.period.ValidateAt(s.opt.Now()); err != nil {
		return nil, err
	}
	if rq.month == "" {
		rq.from, rq.to = rq.period.From.In(loc).Format("2006-01-02"), rq.period.Last(loc).Format("2006-01-02")
	}
	switch sep := q.Get("sep"); sep {
	case "", "comma":
	case "semicolon":
		rq.semicolon = true
	default:
		return nil, tanggap.Errorf(tanggap.EINVALID, "sep must be semicolon or comma")
	}
	switch u := q.Get("unmask"); u {
	case "", "0":
	case "1":
		if !p.CitywideAccess() {
			return nil, tanggap.Errorf(tanggap.EFORBIDDEN, "only the PPID Utama may see reporters' identities")
		}
		rq.unmask = true
	default:
		return nil, tanggap.Errorf(tanggap.EINVALID, "unmask must be 1 or absent")
	}
	opdOf := func(code string) report.OPD {
		if o, ok := s.opt.Config.OPD(code); ok {
			return report.OPD{Code: o.Code, Name: o.Name, Abbrev: o.Abbrev}
		}
		return report.OPD{Code: code, Name: code}
	}
	switch {
	case !p.CitywideAccess():
		if p.OPD == "" || !p.CanSeeOPD(p.OPD) {
			return nil, tanggap.Errorf(tanggap.EFORBIDDEN, "this role sees no OPD")
		}
		if rq.opd != "" && rq.opd != p.OPD {
			return nil, tanggap.Errorf(tanggap.EFORBIDDEN, "not your OPD")
		}
		rq.opd = ""
		rq.scope = report.Scope{OPDs: []report.OPD{opdOf(p.OPD)}}
	case rq.opd == "":
		sc := report.Scope{Unrouted: true, Other: true}
		for _, o := range s.opt.Config.OPDs {
			sc.OPDs = append(sc.OPDs, report.OPD{Code: o.Code, Name: o.Name, Abbrev: o.Abbrev})
		}
		rq.scope = sc
	case rq.opd == store.Unrouted:
		rq.scope = report.Scope{Unrouted: true}
	default:
		if _, ok := s.opt.Config.OPD(rq.opd); !ok {
			return nil, tanggap.Errorf(tanggap.EINVALID, "unknown OPD %q", clipText(rq.opd, 40))
		}
		rq.scope = report.Scope{OPDs: []report.OPD{opdOf(rq.opd)}}
	}
	return rq, nil
}

func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// query is the period and OPD part of the request, for links.
func (rq *reportReq) query() url.Values {
	v := url.Values{}
	if rq.month != "" {
		v.Set("month", rq.month)
	} else {
		v.Set("from", rq.from)
		v.Set("to", rq.to)
	}
	if rq.opd != "" {
		v.Set("opd", rq.opd)
	}
	return v
}

func (rq *reportReq) link(path string, extra ...string) string {
	v := rq.query()
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	return path + "?" + v.Encode()
}

// reportSource is the store as reports read it, with the report options
// (among them the cutoff of the latest prune, which a store that prunes
// keeps).
func (s *Server) reportSource(ctx context.Context) (report.Source, report.Options, error) {
	src, ok := s.opt.Store.(report.Source) // store.Store is one
	if !ok {
		return nil, report.Options{}, tanggap.Errorf(tanggap.EUNAVAILABLE, "reports need a store that can scan items")
	}
	if s.opt.Clocks == nil {
		return nil, report.Options{}, tanggap.Errorf(tanggap.EUNAVAILABLE, "reports need the working-day calendar")
	}
	opt := report.Options{Calendar: s.opt.Clocks.Calendar(), Now: s.opt.Now(),
		FirstResponseTarget: s.opt.Config.Clocks.FirstResponse.D(), Lookback: report.DefaultLookback}
	if p, ok := s.opt.Store.(interface {
		PrunedBefore(context.Context) (time.Time, error)
	}); ok {
		var err error
		if opt.PrunedBefore, err = p.PrunedBefore(ctx); err != nil {
			return nil, report.Options{}, err
		}
	}
	return src, opt, nil
}

// buildReport loads the items and computes the report.
func (s *Server) buildReport(ctx context.Context, rq *reportReq) (*report.Report, *report.Data, error) {
	src, opt, err := s.reportSource(ctx)
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, reportDeadline)
	defer cancel()
	d, err := report.Load(ctx, src, rq.period, rq.scope, report.DefaultLookback)
	if err != nil {
		return nil, nil, err
	}
	return report.Build(d, opt), d, nil
}

// exportRegister writes the detail register (the period's items only, no
// figures) while reading it from the store; if the store gives the items
// out of T0 order, it builds the register first instead, which sorts.
func (s *Server) exportRegister(ctx context.Context, buf *bytes.Buffer, rq *reportReq, format string, copt report.CSVOptions) error {
	src, opt, err := s.reportSource(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, reportDeadline)
	defer cancel()
	ro := report.RegisterOptions{Lang: copt.Lang, Unmask: rq.unmask, Official: s.officialHandles()}
	err = report.ExportRegister(ctx, buf, src, rq.period, rq.scope, opt, ro, format, copt)
	if errors.Is(err, report.ErrRegisterOrder) {
		buf.Reset()
		var d *report.Data
		if d, err = report.LoadPeriod(ctx, src, rq.period, rq.scope); err != nil {
			return err
		}
		rep := report.Header(d, opt)
		if format == "csv" {
			err = report.WriteRegisterCSV(buf, rep, rep.BuildRegister(d, ro), copt)
		} else {
			err = report.WriteRegisterXLSX(buf, rep, rep.BuildRegister(d, ro), copt.Lang)
		}
	}
	var te *tanggap.Error
	if err != nil && !errors.As(err, &te) { // the store's errors carry their code
		err = tanggap.WrapCode(tanggap.EINTERNAL, err, "export register.%s", format)
	}
	return err
}

// officialHandles are the handles of the city's accounts, whose @mentions
// a masked register keeps.
func (s *Server) officialHandles() []string {
	out := make([]string, 0, len(s.opt.Config.Accounts))
	for _, a := range s.opt.Config.Accounts {
		out = append(out, a.Handle)
	}
	return out
}

// leagueView is one line of the league table as the page shows it.
type leagueView struct {
	Rank, Code, Name, Abbrev       string
	Ranked                         bool
	Received, Answered, Overdue    int
	FollowedUp, WithinTarget       string
	MedianH, P90H, MedianWH, P90WH string
	Oldest                         string
}

// recapView is one line of the recap.
type recapView struct {
	No, Code, Name, Rank                  string
	Total                                 bool
	Carry, Received, Need, Answered       int
	InTarget, Overdue                     int
	Statuses                              []int
	FollowedUp, WithinTarget, Resolved    string
	MeanH, MedianH, P90H, MedianWH, P90WH string
	ResHK, Oldest, TopChannel, TopTopic   string
}

func leagueOf(rep *report.Report, r *report.Row, l string) leagueView {
	fu, fuOK := r.FollowedUp()
	wt, wtOK := r.WithinTarget()
	return leagueView{Rank: rep.RankLabel(r, l), Code: r.OPD, Name: report.RowName(r, l), Abbrev: r.Abbrev, Ranked: r.Ranked(),
		Received: r.Received, Answered: r.Answered, Overdue: r.Overdue,
		FollowedUp: report.Pct(fu, fuOK, l), WithinTarget: report.Pct(wt, wtOK, l),
		MedianH: report.Hours(r.FirstResponse.Median, r.FirstResponse.N, l), P90H: report.Hours(r.FirstResponse.P90, r.FirstResponse.N, l),
		MedianWH: report.Hours(r.FirstResponseWork.Median, r.FirstResponseWork.N, l), P90WH: report.Hours(r.FirstResponseWork.P90, r.FirstResponseWork.N, l),
		Oldest: report.HK(r.OldestOpenHK, r.OpenNow > 0, l)}
}

func recapOf(rep *report.Report, no string, r *report.Row, l string) recapView {
	fu, fuOK := r.FollowedUp()
	wt, wtOK := r.WithinTarget()
	rs, rsOK := r.ResolvedShare()
	v := recapView{No: no, Code: r.OPD, Name: report.RowName(r, l), Rank: rep.RankLabel(r, l), Total: r.OPD == report.Total,
		Carry: r.CarryOver, Received: r.Received, Need: r.NeedAnswer, Answered: r.Answered, InTarget: r.InTarget, Overdue: r.Overdue,
		Statuses: r.StatusCounts(), FollowedUp: report.Pct(fu, fuOK, l), WithinTarget: report.Pct(wt, wtOK, l), Resolved: report.Pct(rs, rsOK, l),
		MeanH: report.Hours(r.FirstResponse.Mean, r.FirstResponse.N, l), MedianH: report.Hours(r.FirstResponse.Median, r.FirstResponse.N, l),
		P90H: report.Hours(r.FirstResponse.P90, r.FirstResponse.N, l), MedianWH: report.Hours(r.FirstResponseWork.Median, r.FirstResponseWork.N, l),
		P90WH: report.Hours(r.FirstResponseWork.P90, r.FirstResponseWork.N, l), ResHK: report.HK(r.ResolutionHK, r.ResolvedN > 0, l),
		Oldest: report.HK(r.OldestOpenHK, r.OpenNow > 0, l), TopTopic: r.TopTopic}
	if r.TopPlatformN > 0 {
		v.TopChannel = r.TopPlatform.Label()
	}
	return v
}

// reportData is what both report pages show.
func (s *Server) reportData(r *http.Request, p *Principal, rq *reportReq, rep *report.Report) map[string]any {
	l := lang(r)
	loc := s.loc
	league := make([]leagueView, len(rep.League))
	for i := range rep.League {
		league[i] = leagueOf(rep, &rep.League[i], l)
	}
	recap := make([]recapView, 0, len(rep.Rows)+1)
	for i := range rep.Rows {
		recap = append(recap, recapOf(rep, strconv.Itoa(i+1), &rep.Rows[i], l))
	}
	recap = append(recap, recapOf(rep, "", &rep.Total, l))
	var statuses []string
	for _, st := range tanggap.Statuses {
		statuses = append(statuses, st.Label(l))
	}
	col := func(key string) string { return report.Text(l, key) }
	cols := map[string]string{}
	for _, k := range []string{"col_rank", "col_opd", "col_carry", "col_received", "col_need", "col_answered", "col_in_target",
		"col_pct_follow", "col_pct_target", "col_pct_resolved", "col_fr_mean", "col_fr_median", "col_fr_p90", "col_fr_median_wh",
		"col_fr_p90_wh", "col_res_mean", "col_overdue", "col_oldest", "col_top_channel", "col_top_topic", "not_enough"} {
		cols[k] = col(k)
	}
	var opds []opdOption
	if p.CitywideAccess() {
		opds = append(opds, opdOption{Code: store.Unrouted, Name: s.t(r, "unrouted"), Selected: rq.opd == store.Unrouted})
		for _, o := range s.opt.Config.OPDs {
			opds = append(opds, opdOption{Code: o.Code, Name: o.Name, Selected: rq.opd == o.Code})
		}
	}
	links := map[string]string{
		"RecapCSV":        rq.link("/laporan/rekap.csv"),
		"RecapCSVSemi":    rq.link("/laporan/rekap.csv", "sep", "semicolon"),
		"RecapXLSX":       rq.link("/laporan/rekap.xlsx"),
		"RegisterCSV":     rq.link("/laporan/register.csv"),
		"RegisterCSVSemi": rq.link("/laporan/register.csv", "sep", "semicolon"),
		"RegisterXLSX":    rq.link("/laporan/register.xlsx"),
		"Print":           rq.link("/laporan/cetak"),
		"Back":            rq.link("/laporan"),
	}
	if p.CitywideAccess() {
		links["RegisterXLSXUnmasked"] = rq.link("/laporan/register.xlsx", "unmask", "1")
		links["RegisterCSVUnmaskedSemi"] = rq.link("/laporan/register.csv", "unmask", "1", "sep", "semicolon")
	}
	cutiKey := "meta_cuti_on"
	if rep.CutiNonworking {
		cutiKey = "meta_cuti_off"
	}
	return map[string]any{
		"R":           func(key string) string { return s.rt(r, key) },
		"Title":       report.Title(l),
		"LeagueTitle": report.LeagueTitle(l),
		"Period":      rep.Period.Label(l, loc),
		"AsOf":        report.TimeLabel(rep.Now, l, loc),
		"Scope":       rep.ScopeLabel(l),
		"League":      league,
		"Recap":       recap,
		"Statuses":    statuses,
		"Cols":        cols,
		"Charts":      rep.ChartSVG(l),
		"Formulas":    rep.Formulas(l),
		"Notes":       rep.Notes(l),
		"Incomplete":  rep.PrunedNote(l),
		"RankNote":    fmt.Sprintf(s.rt(r, "rank_note"), rep.MinSample),
		"CalVersion":  rep.CalendarVersion,
		"Cuti":        report.Text(l, cutiKey),
		"CutiLabel":   report.Text(l, "meta_cuti"),
		"CalLabel":    report.Text(l, "meta_calendar"),
		"City":        s.opt.Config.City.Name,
		"Month":       rq.month,
		"From":        rq.from,
		"To":          rq.to,
		"OPDs":        opds,
		"Citywide":    p.CitywideAccess(),
		"Links":       links,
	}
}

type opdOption struct {
	Code, Name string
	Selected   bool
}

func (s *Server) reportPage(w http.ResponseWriter, r *http.Request, p *Principal) error {
	rq, err := s.reportRequest(r, p)
	if err != nil {
		return err
	}
	rep, _, err := s.buildReport(r.Context(), rq)
	if err != nil {
		return err
	}
	return s.render(w, r, "report", s.reportData(r, p, rq, rep))
}

func (s *Server) reportPrint(w http.ResponseWriter, r *http.Request, p *Principal) error {
	rq, err := s.reportRequest(r, p)
	if err != nil {
		return err
	}
	rep, _, err := s.buildReport(r.Context(), rq)
	if err != nil {
		return err
	}
	return s.render(w, r, "report_print", s.reportData(r, p, rq, rep))
}

// Content types of the exports.
const (
	contentCSV  = "text/csv; charset=utf-8"
	contentXLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
)

// reportExport serves one export: what is "recap" or "register", format
// "csv" or "xlsx". The file is built in memory first, so an error never
// leaves half a file.
func (s *Server) reportExport(what, format string) func(w http.ResponseWriter, r *http.Request, p *Principal) error {
	return func(w http.ResponseWriter, r *http.Request, p *Principal) error {
		rq, err := s.reportRequest(r, p)
		if err != nil {
			return err
		}
		if rq.unmask && what != "register" {
			return tanggap.Errorf(tanggap.EINVALID, "unmask applies to the register only")
		}
		l := lang(r)
		var buf bytes.Buffer
		copt := report.CSVOptions{Semicolon: rq.semicolon, Lang: l}
		if what == "register" {
			err = s.exportRegister(r.Context(), &buf, rq, format, copt)
		} else {
			var rep *report.Report
			if rep, _, err = s.buildReport(r.Context(), rq); err != nil {
				return err
			}
			if format == "csv" {
				err = report.WriteRecapCSV(&buf, rep, copt)
			} else {
				err = report.WriteRecapXLSX(&buf, rep, l)
			}
			if err != nil {
				err = tanggap.WrapCode(tanggap.EINTERNAL, err, "export %s.%s", what, format)
			}
		}
		if err != nil {
			return err
		}
		if rq.unmask {
			s.opt.Log.Info("report_unmasked_export", "login", p.Login, "period", rq.period.Slug(s.loc), "format", format)
		}
		name := "rekap"
		if what == "register" {
			name = "register"
		}
		name += "-" + fileSafe(s.opt.Config.City.Code) + "-" + rq.period.Slug(s.loc)
		if rq.opd != "" {
			name += "-" + fileSafe(rq.opd)
		}
		if rq.unmask {
			name += "-tanpa-samaran"
		}
		ct := contentCSV
		if format == "xlsx" {
			ct = contentXLSX
		}
		w.Header().Set("Content-Type", ct)
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+"."+format+`"`)
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
		_, _ = io.Copy(w, &buf) // the headers are out: a broken connection is not an error page
		return nil
	}
}

// fileSafe keeps [a-z0-9_-] of a code for a file name.
func fileSafe(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "x"
	}
	return b.String()
}

// reportDeadline bounds a report's work; a month of 100,000 items takes
// well under this.
const reportDeadline = 60 * time.Second
