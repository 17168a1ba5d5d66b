package report

// text returns a fixed label of the reports in Bahasa Indonesia ("id", the
// default) or English ("en"). The labels are constants in a switch, not a
// package-level map, so that nothing in the package can change them.
func text(lang, key string) string {
	p := pair(key)
	if p[0] == "" {
		return key
	}
	if lang == "en" {
		return p[1]
	}
	return p[0]
}

func pair(key string) [2]string {
	switch key {
	// Titles.
	case "title_recap":
		return [2]string{"Rekapitulasi Pengaduan Media Sosial per Perangkat Daerah", "Recap of social-media complaints per department"}
	case "title_league":
		return [2]string{"Peringkat Tanggapan per Perangkat Daerah", "Response league table per department"}
	case "title_register":
		return [2]string{"Register Rinci Pengaduan Media Sosial", "Detail register of social-media complaints"}
	case "sheet_recap":
		return [2]string{"Rekap", "Recap"}
	case "sheet_league":
		return [2]string{"Peringkat", "League"}
	case "sheet_register":
		return [2]string{"Register", "Register"}
	case "sheet_notes":
		return [2]string{"Keterangan", "Notes"}

	// Row names.
	case "unrouted":
		return [2]string{"Belum terdisposisi", "Not yet routed"}
	case "total":
		return [2]string{"Jumlah", "Total"}
	case "not_enough":
		return [2]string{"belum cukup data", "not enough data"}
	case "others":
		return [2]string{"Lainnya", "Others"}
	case "unknown":
		return [2]string{"Tidak diketahui", "Unknown"}

	// Columns.
	case "col_no":
		return [2]string{"No", "No"}
	case "col_rank":
		return [2]string{"Peringkat", "Rank"}
	case "col_opd_code":
		return [2]string{"Kode OPD", "Department code"}
	case "col_opd":
		return [2]string{"Perangkat Daerah", "Department"}
	case "col_carry":
		return [2]string{"Sisa awal periode", "Carried over"}
	case "col_received":
		return [2]string{"Diterima", "Received"}
	case "col_need":
		return [2]string{"Perlu jawaban", "Need an answer"}
	case "col_answered":
		return [2]string{"Dijawab", "Answered"}
	case "col_in_target":
		return [2]string{"Dijawab tepat waktu", "Answered within target"}
	case "col_pct_follow":
		return [2]string{"% tindak lanjut", "% followed up"}
	case "col_pct_target":
		return [2]string{"% tepat waktu", "% within target"}
	case "col_pct_resolved":
		return [2]string{"% selesai", "% resolved"}
	case "col_fr_mean":
		return [2]string{"Rata-rata tanggapan pertama (jam)", "Mean first response (hours)"}
	case "col_fr_median":
		return [2]string{"Median tanggapan pertama (jam)", "Median first response (hours)"}
	case "col_fr_p90":
		return [2]string{"P90 tanggapan pertama (jam)", "P90 first response (hours)"}
	case "col_fr_median_wh":
		return [2]string{"Median tanggapan pertama (jam kerja)", "Median first response (working hours)"}
	case "col_fr_p90_wh":
		return [2]string{"P90 tanggapan pertama (jam kerja)", "P90 first response (working hours)"}
	case "col_res_mean":
		return [2]string{"Rata-rata penyelesaian (HK)", "Mean resolution (working days)"}
	case "col_overdue":
		return [2]string{"Terlambat (saat ini)", "Overdue (now)"}
	case "col_oldest":
		return [2]string{"Terbuka tertua (HK)", "Oldest open (working days)"}
	case "col_top_channel":
		return [2]string{"Kanal terbanyak", "Top channel"}
	case "col_top_topic":
		return [2]string{"Topik terbanyak", "Top topic"}

	// Register columns.
	case "reg_id":
		return [2]string{"ID", "ID"}
	case "reg_posted":
		return [2]string{"Waktu unggah (T0)", "Posted (T0)"}
	case "reg_captured":
		return [2]string{"Waktu terekam", "Captured"}
	case "reg_platform":
		return [2]string{"Kanal", "Channel"}
	case "reg_account":
		return [2]string{"Akun", "Account"}
	case "reg_interaction":
		return [2]string{"Jenis interaksi", "Interaction"}
	case "reg_link":
		return [2]string{"Tautan", "Link"}
	case "reg_reporter":
		return [2]string{"Pelapor", "Reporter"}
	case "reg_summary":
		return [2]string{"Ringkasan", "Summary"}
	case "reg_kind":
		return [2]string{"Jenis", "Kind"}
	case "reg_topic":
		return [2]string{"Topik", "Topic"}
	case "reg_kecamatan":
		return [2]string{"Kecamatan", "District"}
	case "reg_kelurahan":
		return [2]string{"Kelurahan", "Sub-district"}
	case "reg_assigned":
		return [2]string{"Waktu disposisi", "Assigned"}
	case "reg_first_response":
		return [2]string{"Waktu tanggapan pertama", "First response"}
	case "reg_resolved":
		return [2]string{"Waktu selesai", "Resolved"}
	case "reg_evidence":
		return [2]string{"Bukti", "Evidence"}
	case "reg_status":
		return [2]string{"Status", "Status"}
	case "reg_deadline":
		return [2]string{"Tenggat", "Deadline"}
	case "reg_hk_left":
		return [2]string{"Sisa HK (negatif = terlambat)", "Working days left (negative = late)"}
	case "reg_external":
		return [2]string{"ID pelacakan eksternal", "External tracking id"}
	case "reg_officer":
		return [2]string{"Petugas", "Officer"}

	// Interaction types.
	case "ia_mention":
		return [2]string{"Mention", "Mention"}
	case "ia_comment":
		return [2]string{"Komentar", "Comment"}
	case "ia_reply":
		return [2]string{"Balasan", "Reply"}
	case "ia_post":
		return [2]string{"Unggahan", "Post"}
	case "ia_tag":
		return [2]string{"Tag", "Tag"}

	// Notes.
	case "meta_pruned":
		return [2]string{"DATA TIDAK LENGKAP", "DATA INCOMPLETE"}
	case "meta_pruned_text":
		return [2]string{"Aduan yang berakhir sebelum %s telah dihapus dari Tanggap (tanggap prune): angka periode ini tidak memuatnya.",
			"Items that ended before %s were removed from Tanggap (tanggap prune): this period's figures leave them out."}
	case "meta_period":
		return [2]string{"Periode", "Period"}
	case "meta_generated":
		return [2]string{"Posisi data per", "Data as of"}
	case "meta_calendar":
		return [2]string{"Versi kalender libur", "Holiday calendar version"}
	case "meta_cuti":
		return [2]string{"Cuti bersama", "Cuti bersama (collective leave)"}
	case "meta_cuti_off":
		return [2]string{"dihitung sebagai hari libur (bukan hari kerja)", "counted as non-working days"}
	case "meta_cuti_on":
		return [2]string{"dihitung sebagai hari kerja", "counted as working days"}
	case "meta_office":
		return [2]string{"Jam kantor", "Office hours"}
	case "meta_zone":
		return [2]string{"Zona waktu", "Time zone"}
	case "meta_formulas":
		return [2]string{"Rumus", "Formulas"}
	case "meta_scope":
		return [2]string{"Cakupan", "Scope"}
	case "meta_masked":
		return [2]string{"Identitas pelapor disamarkan (2 karakter awal dan 2 karakter akhir), begitu pula setiap @akun di ringkasan selain akun resmi kota; tautan X ditulis tanpa nama akun, dan tautan yang dapat memuat identitas dikosongkan.",
			"Reporter identities are masked (first 2 and last 2 characters), and so is every @handle in the summaries but the city's own accounts; X links are written without the handle, and links that may hold an identity are left empty."}
	case "meta_unmasked":
		return [2]string{"Identitas pelapor TIDAK disamarkan atas permintaan PPID Utama: dokumen ini memuat data pribadi.", "Reporter identities are NOT masked, at the PPID Utama's request: this document holds personal data."}
	case "scope_city":
		return [2]string{"Seluruh perangkat daerah", "Every department"}

	// Charts.
	case "chart_weekly":
		return [2]string{"Aduan diterima per minggu", "Complaints received per week"}
	case "chart_frt":
		return [2]string{"Sebaran waktu tanggapan pertama (jam)", "Time to first response (hours)"}
	case "chart_aging":
		return [2]string{"Umur aduan terbuka saat ini (HK sejak T0)", "Age of open complaints now (working days since T0)"}
	case "aging_unit": // after each bucket of that chart; the English title names the unit
		return [2]string{" HK", ""}
	case "chart_topics":
		return [2]string{"Topik terbanyak", "Top topics"}
	case "chart_kecamatan":
		return [2]string{"Kecamatan terbanyak", "Top districts (kecamatan)"}
	case "chart_unanswered":
		return [2]string{"Belum dijawab", "Not answered"}
	case "chart_week_of":
		return [2]string{"mgg", "wk"}
	case "chart_empty":
		return [2]string{"Tidak ada data", "No data"}
	case "state_overdue":
		return [2]string{"Terlambat", "Overdue"}
	case "state_due_soon":
		return [2]string{"Segera jatuh tempo", "Due soon"}
	case "state_on_track":
		return [2]string{"Sesuai jadwal", "On track"}
	case "within_target":
		return [2]string{"Dalam target", "Within target"}
	case "over_target":
		return [2]string{"Melewati target", "Over target"}
	}
	return [2]string{}
}
