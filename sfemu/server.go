package sfemu

import (
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Clock tells the emulator what time it is. Tests pass a clock they move
// by hand; nil means the real time.
type Clock interface{ Now() time.Time }

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// Options configure an emulated org. The zero value is a usable org with
// the default credentials, a handful of Users and no other records.
type Options struct {
	Seed int64 // data generation seed
	// Records are the initial record counts per object, e.g.
	// {"Account": 10000}. User defaults to 5 and is at least 1: User
	// record 0 is the integration user every token acts as.
	Records map[string]int
	Clock   Clock       // nil: real time
	Custom  []ObjectDef // custom objects and extra custom fields (see LoadSchemaFile)

	ClientID     string // defaults to "sfsync-emulator"
	ClientSecret string // defaults to "emulator-secret"
	Username     string // defaults to "admin@emulator.example"
	// Password is what the password grant expects: the password with the
	// security token appended (the token may be empty). Defaults to
	// "emulator-password".
	Password     string
	RefreshToken string         // accepted by the refresh grant; defaults to "emulator-refresh-token"
	JWTPublicKey *rsa.PublicKey // verifies JWT bearer assertions; nil: the JWT grant answers invalid_grant

	DailyAPILimit int64    // defaults to 100000
	MaxPageSize   int      // largest query page; defaults to 2000
	APIVersions   []string // defaults to 58.0 through 62.0

	// LocatorIdle is how long a query locator survives without use;
	// defaults to 15 minutes (measured on Clock).
	LocatorIdle time.Duration
	// Logger receives debug logs of requests and admin actions; nil
	// discards them.
	Logger *slog.Logger

	// BulkJobPolls is the job info request at which a Bulk API 2.0 query
	// job completes: the first one moves it from UploadComplete to
	// InProgress and takes its result snapshot, the BulkJobPolls-th one
	// finds it JobComplete. Defaults to 2; 1 completes a job at its first
	// poll.
	BulkJobPolls int
	// BulkPageSize is the number of records in a result page when the
	// request gives no maxRecords; defaults to 50,000.
	BulkPageSize int
	// BulkUnsupported names objects whose query jobs are refused as not
	// supported by the Bulk API (INVALIDENTITY).
	BulkUnsupported []string
	// BulkListPageSize is how many jobs one page of the job list (GET
	// jobs/query) holds before nextRecordsUrl names the next page;
	// defaults to 1,000.
	BulkListPageSize int
}

// Server is an emulated Salesforce org: an http.Handler serving the REST
// and OAuth wire formats, plus Go methods that change the org's data,
// inject faults and report the truth. It is safe for concurrent use.
type Server struct {
	opts     Options
	clock    Clock
	log      *slog.Logger
	versions map[string]bool
	orgID    string // 18 characters
	userID   string // the integration user
	created  int64  // Unix ms of New

	mu        sync.RWMutex // guards everything below up to cursors
	objects   map[string]*sobject
	objList   []*sobject // describe order
	lastStamp int64      // newest SystemModstamp handed out, Unix ms
	rng       *rand.Rand
	customs   int // custom objects created, for key prefixes

	cursorMu  sync.Mutex
	cursors   map[string]*cursor
	cursorSeq int64

	tokenMu sync.Mutex
	tokens  map[string]bool

	faults faultSet
	pages  sync.Pool // *[]byte page buffers

	jobs bulkJobs

	requests atomic.Int64
	used     atomic.Int64

	mux *http.ServeMux
}

const (
	defaultClientID     = "sfsync-emulator"
	defaultClientSecret = "emulator-secret"
	defaultUsername     = "admin@emulator.example"
	defaultPassword     = "emulator-password"
	defaultRefreshToken = "emulator-refresh-token"
	defaultUsers        = 5
)

// New builds an org: the standard objects, the custom objects and fields
// of opts.Custom, and opts.Records generated records per object.
func New(opts Options) (*Server, error) {
	if err := normalize(&opts); err != nil {
		return nil, err
	}
	s := &Server{
		opts:     opts,
		clock:    opts.Clock,
		log:      opts.Logger,
		versions: map[string]bool{},
		objects:  map[string]*sobject{},
		cursors:  map[string]*cursor{},
		tokens:   map[string]bool{},
		rng:      rand.New(rand.NewPCG(uint64(opts.Seed), 0x5f5e100)),
	}
	for _, v := range opts.APIVersions {
		s.versions[v] = true
	}
	s.created = s.clock.Now().UTC().Truncate(time.Millisecond).UnixMilli()
	s.orgID = makeID("00D", 1)
	s.userID = makeID("005", 0)
	for _, spec := range standardObjects() {
		s.addObject(newObject(spec))
	}
	for _, d := range opts.Custom {
		if err := s.define(d); err != nil {
			return nil, err
		}
	}
	stamp := time.UnixMilli(s.created).UTC().Truncate(time.Second)
	for _, o := range s.objList {
		if err := o.prepare(); err != nil {
			return nil, err
		}
		o.schemaStamp = stamp
	}
	counts, err := s.recordCounts(opts.Records)
	if err != nil {
		return nil, err
	}
	for _, o := range s.generationOrder() {
		s.generate(o, counts[o], objectRand(opts.Seed, o.Name))
		if o.Name == "User" {
			s.setupIntegrationUser(o)
		}
	}
	s.mux = s.buildMux()
	return s, nil
}

func normalize(o *Options) error {
	if o.Clock == nil {
		o.Clock = realClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	def(&o.ClientID, defaultClientID)
	def(&o.ClientSecret, defaultClientSecret)
	def(&o.Username, defaultUsername)
	def(&o.Password, defaultPassword)
	def(&o.RefreshToken, defaultRefreshToken)
	if o.DailyAPILimit == 0 {
		o.DailyAPILimit = 100000
	}
	if o.DailyAPILimit < 0 {
		return fmt.Errorf("emulator options: DailyAPILimit %d is negative", o.DailyAPILimit)
	}
	if o.MaxPageSize == 0 {
		o.MaxPageSize = 2000
	}
	if o.MaxPageSize < 0 {
		return fmt.Errorf("emulator options: MaxPageSize %d is negative", o.MaxPageSize)
	}
	if o.LocatorIdle == 0 {
		o.LocatorIdle = 15 * time.Minute
	}
	if o.BulkJobPolls == 0 {
		o.BulkJobPolls = 2
	}
	if o.BulkJobPolls < 0 {
		return fmt.Errorf("emulator options: BulkJobPolls %d is negative", o.BulkJobPolls)
	}
	if o.BulkPageSize == 0 {
		o.BulkPageSize = 50000
	}
	if o.BulkPageSize < 0 {
		return fmt.Errorf("emulator options: BulkPageSize %d is negative", o.BulkPageSize)
	}
	if o.BulkListPageSize == 0 {
		o.BulkListPageSize = 1000
	}
	if o.BulkListPageSize < 0 {
		return fmt.Errorf("emulator options: BulkListPageSize %d is negative", o.BulkListPageSize)
	}
	if len(o.APIVersions) == 0 {
		o.APIVersions = []string{"58.0", "59.0", "60.0", "61.0", "62.0"}
	}
	for _, v := range o.APIVersions {
		if _, ok := versionNumber(v); !ok {
			return fmt.Errorf("emulator options: API version %q is not of the form 62.0", v)
		}
	}
	return nil
}

// versionNumber parses "62.0" into 62.
func versionNumber(v string) (int, bool) {
	whole, ok := strings.CutSuffix(v, ".0")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(whole)
	if err != nil || n < 20 || n > 999 {
		return 0, false
	}
	return n, true
}

func newObject(spec objectSpec) *sobject {
	o := &sobject{
		Name: spec.name, Label: spec.label, LabelPlural: spec.plural,
		KeyPrefix: spec.prefix, idPrefix: spec.prefix,
		Queryable: true, Replicateable: spec.replicateable,
		Createable: spec.createable, Updateable: spec.createable,
		Deletable: spec.deletable, Undeletable: spec.deletable,
		Mergeable: spec.mergeable, FeedEnabled: spec.createable, Searchable: spec.createable,
		byName: map[string]int{}, exact: map[string]int{}, roles: map[role]int{},
		table: table{orderCol: -1},
	}
	if o.idPrefix == "" {
		o.idPrefix = "0RV"
	}
	for _, f := range spec.fields {
		o.addField(f)
	}
	return o
}

func (s *Server) addObject(o *sobject) {
	s.objects[strings.ToLower(o.Name)] = o
	s.objList = append(s.objList, o)
	sort.SliceStable(s.objList, func(i, j int) bool { return s.objList[i].Name < s.objList[j].Name })
}

// define applies one custom object definition at New.
func (s *Server) define(d ObjectDef) error {
	if d.Extends {
		o, ok := s.objects[strings.ToLower(d.Name)]
		if !ok {
			return fmt.Errorf("custom fields for %q: no such object to extend", d.Name)
		}
		fs, err := customFields(o.Name, d.Fields, func(n string) bool { _, ok := o.field(n); return ok })
		if err != nil {
			return err
		}
		for _, f := range fs {
			o.addField(f)
		}
		return nil
	}
	if !validCustomName(d.Name) {
		return fmt.Errorf("custom object %q: names are letters, digits and single underscores ending in __c", d.Name)
	}
	if _, ok := s.objects[strings.ToLower(d.Name)]; ok {
		return fmt.Errorf("custom object %q is defined twice", d.Name)
	}
	label := d.Label
	if label == "" {
		label = strings.ReplaceAll(strings.TrimSuffix(d.Name, "__c"), "_", " ")
	}
	s.customs++
	k := s.customs
	prefix := "a" + string(base62Digits[k/62%62]) + string(base62Digits[k%62])
	o := newObject(objectSpec{
		name: d.Name, label: label, plural: label + "s", prefix: prefix,
		replicateable: true, deletable: true, createable: true,
		fields: customObjectFields(label),
	})
	o.Custom = true
	o.FeedEnabled = false
	fs, err := customFields(o.Name, d.Fields, func(n string) bool { _, ok := o.field(n); return ok })
	if err != nil {
		return err
	}
	for _, f := range fs {
		o.addField(f)
	}
	s.addObject(o)
	return nil
}

// prepare links compound fields, compiles formulas, picks generators and
// the ordering column once o's fields are all known.
func (o *sobject) prepare() error {
	o.link()
	for _, f := range o.fields {
		if f.calculated() && f.expr == nil {
			e, err := compileFormula(o, f.Formula)
			if err != nil {
				return fmt.Errorf("object %s: field %s: %w", o.Name, f.Name, err)
			}
			f.expr = e
		}
	}
	assignGenerators(o)
	if f := o.cursorField(); f != nil {
		o.orderCol = f.col
	}
	return nil
}

func (s *Server) recordCounts(records map[string]int) (map[*sobject]int, error) {
	counts := map[*sobject]int{}
	for name, n := range records {
		o, ok := s.objects[strings.ToLower(name)]
		if !ok {
			return nil, fmt.Errorf("emulator options: Records names unknown object %q", name)
		}
		if n < 0 || n > maxRecNo {
			return nil, fmt.Errorf("emulator options: Records[%q] = %d is out of range", name, n)
		}
		counts[o] = n
	}
	users := s.objects["user"]
	if _, ok := counts[users]; !ok {
		counts[users] = defaultUsers
	}
	if counts[users] < 1 {
		counts[users] = 1
	}
	return counts, nil
}

// generationOrder lists objects so that referenced ones come first.
func (s *Server) generationOrder() []*sobject {
	first := []string{"user", "account", "contact", "opportunity", "lead"}
	var out []*sobject
	seen := map[*sobject]bool{}
	for _, n := range first {
		out = append(out, s.objects[n])
		seen[s.objects[n]] = true
	}
	for _, o := range s.objList {
		if !seen[o] && o.Custom {
			out = append(out, o)
			seen[o] = true
		}
	}
	for _, o := range s.objList {
		if !seen[o] {
			out = append(out, o)
		}
	}
	return out
}

// setupIntegrationUser makes User record 0 the user every token acts as.
func (s *Server) setupIntegrationUser(users *sobject) {
	row := users.rowOf(0)
	set := func(name string, c cell) {
		if f, ok := users.field(name); ok {
			users.set(f.col, row, c)
		}
	}
	set("Username", cell{s: s.opts.Username})
	set("FirstName", cell{s: "Integration"})
	set("LastName", cell{s: "User"})
	set("Alias", cell{s: "integ"})
	set("IsActive", boolCell(true))
	if strings.Contains(s.opts.Username, "@") && len(s.opts.Username) <= 80 {
		set("Email", cell{s: s.opts.Username})
	}
	users.finish(row)
}

// now returns the emulator's clock.
func (s *Server) now() time.Time { return s.clock.Now().UTC() }

// ServeHTTP serves the OAuth and REST endpoints and the admin endpoint.
// Every response carries a Date header from the emulator's clock.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Date", s.now().Format(http.TimeFormat))
	s.mux.ServeHTTP(w, r)
}

// apiError is one entry of a REST error body.
type apiError struct {
	Message   string `json:"message"`
	ErrorCode string `json:"errorCode"`
}

// writeError writes a REST error: a JSON array with one error.
func writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, []apiError{{Message: message, ErrorCode: code}})
}

// writeJSON writes v as JSON with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`[{"message":"response encoding failed","errorCode":"UNKNOWN_EXCEPTION"}]`)
	}
	writeBody(w, status, b)
}

// writeBody writes a JSON body that is already encoded.
func writeBody(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=UTF-8")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// object returns the object with the given name; the caller holds mu.
func (s *Server) object(name string) (*sobject, error) {
	o, ok := s.objects[strings.ToLower(name)]
	if !ok {
		return nil, fmt.Errorf("no object named %q", name)
	}
	return o, nil
}
