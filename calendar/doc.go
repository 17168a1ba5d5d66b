// Package calendar is the working-day (hari kerja, HK) clock of Tanggap: which
// days are working days in Asia/Jakarta, when a deadline of "+N HK" falls,
// and how much working time has passed between two instants.
//
// # The holiday table is data
//
// The national holidays (libur nasional) and collective leave days (cuti
// bersama) come from a CSV file with the columns date,type,name_id,legal_basis
// (see holidays-id.csv in this directory, copied from the SKB of the
// ministers of religious affairs, manpower and administrative reform). The
// file is embedded in the binary ([Default]) and can be replaced at run time
// without rebuilding ([Load], [LoadFile]). Every calendar carries a
// [Calendar.Version] such as "SKB 1497/2/5 Tahun 2025; sha256:f890dfe8587a"
// so that every report says which table it was computed with, and
// [Calendar.MissingYearWarning] says when the table does not cover the current
// or the next year. Years absent from the table are computed with weekends
// only: deadlines in them may be wrong, hence the warning.
//
// # Working days
//
// A working day is Monday to Friday, except libur nasional and, when
// [Options].CutiBersamaIsNonworking is true (the policy default, see
// [DefaultOptions]), cuti bersama. Each working day has office hours,
// [OfficeStart, OfficeEnd) in local time, 08:00-16:00 by default.
// Asia/Jakarta (WIB, UTC+07:00) has no daylight saving time, so every office
// day has the same length; "1 HK" of working time is that length (8 hours by
// default).
//
// # Semantics of the clock
//
// Receipt and day 0. Day 0 is the day of receipt ("hari ke-0"). A post
// received on a working day before the office-hours end counts as received on
// that day; if it arrives before the office opens, its clock starts at the
// office start. A post received at or after the office-hours end (the
// cut-off; 16:00:00 exactly is already after it), or on a weekend or a
// non-working holiday, counts as received at the office start of the next
// working day, which becomes its day 0. [Calendar.ClockStart] gives that
// instant.
//
// End of a deadline day. "+N HK" is the end of the Nth working day after day
// 0, and the end of a working day is its office-hours end (16:00 local by
// default), not midnight. This mirrors the cut-off: what arrives after 16:00
// counts for the next day, and what is done after 16:00 on the due day is
// late. A deadline is overdue from that instant on (now >= deadline). "+0 HK"
// is the end of day 0.
//
// Elapsed time. [Calendar.WorkingHoursBetween] counts only time inside office
// hours on working days; [Calendar.WorkingDaysBetween] is that duration
// divided by the length of one office day, so it is fractional (Tuesday 10:00
// to Wednesday 12:00 is 6h+4h = 1.25 HK with 8-hour days). Both are negative
// when to is before from.
//
// Pauses. A deadline is never reset; while an item is ON_HOLD the caller
// records the pause and [Calendar.Extend] moves the deadline forward by the
// working time spent paused, so a pause covering two whole working days
// moves a deadline at 16:00 on a Friday to 16:00 on the Tuesday after.
//
// Deadline states. [Calendar.State] is overdue when now >= deadline, due_soon
// when at most one HK of working time is left (from the office-hours end of
// the working day before the due day), and on_track otherwise.
//
// A [Calendar] is immutable once built: its methods are pure and safe for
// concurrent use.
package calendar
