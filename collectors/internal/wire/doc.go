// Package wire holds what the platform collectors share about the JSON
// they read: Text, a string that remembers whether its wire form was
// invalid UTF-8, and Seen, the bounded memory of recently seen ids that the
// Meta and YouTube cursors keep (their APIs order by time, not by id).
package wire
