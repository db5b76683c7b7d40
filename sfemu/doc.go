// Package sfemu is a Salesforce API emulator: an http.Handler over an
// in-memory org that speaks the documented wire formats of the OAuth token
// endpoint and the REST API, with a clock, mutations and fault injection.
// It backs sfsync's tests, benchmarks and quick start, and runs as its own
// process with "sfsync emulate".
//
//	emu, err := sfemu.New(sfemu.Options{Seed: 1, Records: map[string]int{"Account": 10000}})
//	srv := httptest.NewServer(emu)
//
// # The org
//
// Standard objects Account, Contact, Opportunity, Lead and User carry
// realistic fields of every common type (ids, polymorphic references,
// text, long text, picklists, multi-select picklists, booleans, numbers of
// every precision, currency, percent, dates, datetimes, a time, email,
// phone, url, compound address and location fields, formulas) and the
// system fields. AccountHistory has CreatedDate as its only timestamp;
// RecentlyViewed has none and is not replicateable. Custom objects and
// fields come from Options.Custom or a schema file (LoadSchemaFile).
//
// Records are generated deterministically from Options.Seed; their
// SystemModstamps lie in the 90 days before New, increasing. Every
// mutation after that stamps SystemModstamp with the clock's time, moved
// one millisecond past the newest stamp when the clock has not advanced, so
// stamps are strictly increasing (TouchSameSecond and LateCommit are the
// deliberate exceptions). With a clock that stands still, stamps therefore
// run ahead of the Date header; tests advance their clock.
//
// Formula fields use a small language: field names, numbers, 'text',
// TRUE, FALSE, NULL, + - * / (+ also joins text), & (joins text, null as
// empty) and parentheses; for example "Amount * Probability / 100".
//
// Values given to Create and Update may be Go values or their text forms:
// text (a []string joins for multi-select picklists), bool or
// "true"/"false", any number or json.Number or numeric text, time.Time or
// ISO-8601 text for dates ("2024-01-02"), datetimes
// ("2024-01-02T03:04:05Z") and times ("13:30:00.000Z").
//
// # HTTP
//
//	POST /services/oauth2/token              password, client_credentials (form or Basic),
//	                                         JWT bearer and refresh_token grants
//	GET  /services/oauth2/userinfo
//	GET  /services/data/                     versions (no token needed)
//	GET  /services/data/vXX.X/limits
//	GET  /services/data/vXX.X/sobjects
//	GET  /services/data/vXX.X/sobjects/{Obj}/describe   (If-Modified-Since → 304)
//	GET  /services/data/vXX.X/sobjects/{Obj}/updated/?start=&end=
//	GET  /services/data/vXX.X/sobjects/{Obj}/deleted/?start=&end=
//	GET  /services/data/vXX.X/query?q=       and queryAll?q=
//	GET  /services/data/vXX.X/query/{locator}
//	POST /services/data/vXX.X/jobs/query                   Bulk API 2.0 query job: create
//	GET  /services/data/vXX.X/jobs/query[?queryLocator=]   list jobs, paged by nextRecordsUrl
//	GET  /services/data/vXX.X/jobs/query/{id}              job info (each poll advances the job)
//	PATCH /services/data/vXX.X/jobs/query/{id}             {"state":"Aborted"}
//	DELETE /services/data/vXX.X/jobs/query/{id}            204; terminal jobs only
//	GET  /services/data/vXX.X/jobs/query/{id}/results?locator=&maxRecords=
//	GET  /services/data/vXX.X/jobs/query/{id}/resultPages?maxRecords=   up to 5 results URLs (API 58.0+)
//
// Requests under /services/data/vXX.X need a bearer token from the token
// endpoint and count against the daily API limit, which every response
// under /services/data reports in Sforce-Limit-Info. Every response carries
// a Date header from the emulator's clock. A query's result is a snapshot
// taken when its first page is served; its locator expires after
// Options.LocatorIdle without use, and only the 32 most recently used
// locators are kept.
//
// A Bulk API 2.0 query job is created UploadComplete; the first poll of its
// info moves it to InProgress and snapshots its result; the
// Options.BulkJobPolls-th poll finds it JobComplete. Creation refuses what
// Bulk queries refuse: compound fields ("Selecting compound data not
// supported in Bulk Query"), base64 fields, COUNT(), OFFSET, and the
// objects of Options.BulkUnsupported (INVALIDENTITY). Results are CSV pages
// of maxRecords rows (Options.BulkPageSize by default) with Sforce-Locator
// (the literal "null" on the last page) and Sforce-NumberOfRecords, gzipped
// when the request accepts gzip; fetching them with another API version
// than the job's answers 409, before JobComplete 400. The fault kinds
// jobfail and jobstuck make the next created job end Failed or stay
// InProgress; the routes bulkcreate, bulklist, bulkjob, bulkresults and
// bulkresultpages take the other faults (slow result pages, a reset
// mid-download, ...). From API 58.0, resultPages lists a complete job's
// results URLs five at a time (resultPages[].resultUrl, done,
// nextRecordUrl) for parallel download. The job list holds every job not
// deleted, oldest first, with its createdById, Options.BulkListPageSize
// jobs per page; AddBulkJob places jobs of other users, which no token of
// the emulator can create.
//
// # Admin endpoint
//
// Outside /services, /_emulator/ drives the org over HTTP with JSON bodies.
// It needs no token and is not counted. Successful calls answer 200 with
// {"ok":true}, {"id":"..."} or {"ids":[...]}; failures answer 400 (404 for
// an unknown action, or an unknown object in truth) with {"error":"..."}.
//
//	POST /_emulator/create             {"object","fields"}             → {"id"}
//	POST /_emulator/update             {"object","id","fields"}
//	POST /_emulator/system-update      {"object","id","fields"}
//	POST /_emulator/update-random      {"object","n","seed"?}           → {"ids"}
//	POST /_emulator/delete             {"object","id"}
//	POST /_emulator/undelete           {"object","id"}
//	POST /_emulator/purge              {"object","id"}
//	POST /_emulator/merge              {"object","masterId","loserIds"}
//	POST /_emulator/late-commit        {"object","id"?,"fields","age"}  → {"id"}  (age: "90s"; no id creates)
//	POST /_emulator/touch-same-second  {"object","n"}                  → {"ids"}
//	POST /_emulator/add-field          {"object","field":{FieldDef}}
//	POST /_emulator/formula-drift      {"object","value"}              (null value restores)
//	POST /_emulator/faults             {"kind","route","after","times","delay","message"}  (delay: "2s")
//	POST /_emulator/faults/clear
//	POST /_emulator/expire-tokens
//	POST /_emulator/api-usage          {"used"}
//	GET  /_emulator/truth?object=Account[&all=true]   → {Id: {field: value}} (times in RFC 3339)
//	GET  /_emulator/stats              → {"requests","apiUsage","apiLimit","cursors","bulkJobs","faults","objects"}
//	GET  /_emulator/faults             → pending faults
//
// FieldDef keys in add-field are name, label, type, length, precision,
// scale, digits, nillable, formula, referenceTo and picklistValues.
package sfemu
