package calendar_test

import (
	"fmt"
	"time"

	"github.com/tanggap/tanggap/calendar"
)

// The worked check of issue 5: a complaint received on Tuesday 17 March 2026,
// in the week of Nyepi and Idul Fitri.
func Example() {
	for _, nonworking := range []bool{true, false} {
		opt := calendar.DefaultOptions()
		opt.CutiBersamaIsNonworking = nonworking
		c, err := calendar.Default(opt)
		if err != nil {
			panic(err)
		}
		t0 := time.Date(2026, time.March, 17, 10, 0, 0, 0, c.Location())
		fmt.Printf("cuti bersama non-working=%v: +3 HK %s, +5 HK %s\n", nonworking,
			c.AddWorkingDays(t0, 3).Format("Mon 2 Jan 15:04"),
			c.AddWorkingDays(t0, 5).Format("Mon 2 Jan 15:04"))
	}
	c, _ := calendar.Default(calendar.DefaultOptions())
	fmt.Println(c)
	fmt.Println(c.MissingYearWarning(time.Date(2026, time.March, 17, 10, 0, 0, 0, c.Location())))
	// Output:
	// cuti bersama non-working=true: +3 HK Fri 27 Mar 16:00, +5 HK Tue 31 Mar 16:00
	// cuti bersama non-working=false: +3 HK Mon 23 Mar 16:00, +5 HK Wed 25 Mar 16:00
	// Kalender SKB 1497/2/5 Tahun 2025; sha256:f890dfe8587a; cuti bersama = hari libur; jam kantor 08:00-16:00 WIB
	// Kalender libur 2027 belum dimuat: tenggat setelah 31 Desember 2026 bisa salah
}
