// Package notify tells people about items that are late: an escalation
// ladder per OPD (the OPD's admins when an item is overdue, then its PPID
// Pelaksana, then the city's PPID Utama), delivered as one daily digest per
// OPD through a pluggable [Channel]. [SMTP] is the first channel.
//
// The pieces are small interfaces declared here and backed elsewhere:
// [Source] is the store's view of an OPD's open items, [Recipients] maps an
// OPD and a level to e-mail addresses, and [Ledger] records which digests
// went out so that every process and every restart sends each OPD's digest
// at most once a day (Redis SET NX in production, [MemoryLedger] in tests).
//
// Citizen text is untrusted: it is reduced to one line without control
// characters in the plain-text part and in every header, and escaped by
// html/template in the HTML part.
package notify
