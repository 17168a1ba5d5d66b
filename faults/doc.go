// Package faults is Tanggap's fault suite: the whole pipeline under load on
// a real Kafka broker and a real redis-server (scripts/services.sh), with
// `tanggap triage` running as separate processes, while the suite breaks
// things: kill -9 of the triage processes, a redis-server restart (clean,
// then SIGKILL), a Kafka broker stop and start, platform APIs answering 503
// for a minute. After each scenario it checks that no post was lost or
// stored twice, that every clock runs from the post's platform time, and
// that every collector cursor resumed at the newest post; it prints a table.
//
// The tests are under the integration build tag and run only when
// TANGGAP_FAULTS=1, because they take minutes and restart servers. They
// start their own redis-server and Kafka broker with scripts/services.sh in
// a private state directory, so they never disturb the servers other
// suites use. scripts/integration.sh runs them as its last step:
//
//	TANGGAP_FAULTS=1 go test -tags=integration -count=1 -v -timeout 20m ./faults/
//
// TANGGAP_FAULTS_POSTS overrides the posts of the kill -9 scenario
// (default 100000); TANGGAP_FAULTS_OUTAGE the length of the API outage
// (default 3m: "failing for minutes"); TANGGAP_FAULTS_REPORT names a file that receives the table.
package faults
