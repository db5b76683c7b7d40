package config

import (
	"fmt"
	"math"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sfsync/sfsync"
	"gopkg.in/yaml.v3"
)

// Defaults of the serve section.
const (
	DefaultServeListen       = "127.0.0.1:8484"
	DefaultServeSchedule     = "15m"
	DefaultBudgetShare       = 0.8
	DefaultRunRetention      = 30 * 24 * time.Hour
	DefaultRetryMaxAttempts  = 5
	DefaultRetryInitialDelay = 30 * time.Second
	DefaultRetryMaxDelay     = 30 * time.Minute
	DefaultLeaseTTL          = 2 * time.Minute
)

// minTokenLength is the shortest serve.token accepted.
const minTokenLength = 16

// Serve configures the service, `sfsync serve`.
type Serve struct {
	// Listen is the address of the status page, API and metrics
	// (host:port). Any host but a loopback one requires Token.
	Listen string `yaml:"listen" json:"listen"`
	// Token is the bearer token every request but /healthz must carry; it
	// is required when Listen is not a loopback address.
	Token sfsync.Secret `yaml:"token,omitempty" json:"token,omitempty"`
	// Schedule is the default schedule: an interval ("15m") or a
	// five-field cron expression ("*/15 * * * *").
	Schedule string `yaml:"schedule" json:"schedule"`
	// Schedules overrides Schedule per object, by API name
	// (case-insensitive).
	Schedules map[string]string `yaml:"schedules,omitempty" json:"schedules,omitempty"`
	// Retry says how failed runs are retried.
	Retry Retry `yaml:"retry" json:"retry"`
	// BudgetShare is the share of the org's daily API allowance above which
	// the service starts no work (0 to 1).
	BudgetShare float64 `yaml:"budget_share" json:"budget_share"`
	// RunRetention is how long run records are kept.
	RunRetention time.Duration `yaml:"run_retention" json:"run_retention"`
	// LeaseTTL is how long an object's lease outlives a server that stops
	// renewing it: servers sharing a PostgreSQL warehouse take over the
	// objects of one that died after this long.
	LeaseTTL time.Duration `yaml:"lease_ttl" json:"lease_ttl"`
}

// Retry is the retry policy for failed runs: after InitialDelay, doubling
// up to MaxDelay, at most MaxAttempts failed runs in a row before the
// object waits for its next scheduled run.
type Retry struct {
	MaxAttempts  int           `yaml:"max_attempts" json:"max_attempts"`
	InitialDelay time.Duration `yaml:"initial_delay" json:"initial_delay"`
	MaxDelay     time.Duration `yaml:"max_delay" json:"max_delay"`
}

// defaultServe is the serve section a file leaves out.
func defaultServe() Serve {
	return Serve{
		Listen:       DefaultServeListen,
		Schedule:     DefaultServeSchedule,
		Retry:        Retry{MaxAttempts: DefaultRetryMaxAttempts, InitialDelay: DefaultRetryInitialDelay, MaxDelay: DefaultRetryMaxDelay},
		BudgetShare:  DefaultBudgetShare,
		RunRetention: DefaultRunRetention,
		LeaseTTL:     DefaultLeaseTTL,
	}
}

// ScheduleFor returns the schedule of an object: its entry in Schedules
// (matched case-insensitively), else Schedule.
func (s Serve) ScheduleFor(object string) string {
	for name, sched := range s.Schedules {
		if strings.EqualFold(name, object) {
			return sched
		}
	}
	return s.Schedule
}

func (d *decoder) serve(n *yaml.Node, path string, s *Serve) {
	d.mapping(n, path, []field{
		{"listen", func(v *yaml.Node, p string) { d.str(v, p, &s.Listen) }},
		{"token", func(v *yaml.Node, p string) { d.secret(v, p, &s.Token) }},
		{"schedule", func(v *yaml.Node, p string) { d.str(v, p, &s.Schedule) }},
		{"schedules", func(v *yaml.Node, p string) { d.stringMap(v, p, &s.Schedules) }},
		{"retry", func(v *yaml.Node, p string) {
			d.mapping(v, p, []field{
				{"max_attempts", func(v *yaml.Node, p string) { d.integer(v, p, &s.Retry.MaxAttempts) }},
				{"initial_delay", func(v *yaml.Node, p string) { d.duration(v, p, &s.Retry.InitialDelay) }},
				{"max_delay", func(v *yaml.Node, p string) { d.duration(v, p, &s.Retry.MaxDelay) }},
			})
		}},
		{"budget_share", func(v *yaml.Node, p string) { d.fraction(v, p, &s.BudgetShare) }},
		{"run_retention", func(v *yaml.Node, p string) { d.duration(v, p, &s.RunRetention) }},
		{"lease_ttl", func(v *yaml.Node, p string) { d.duration(v, p, &s.LeaseTTL) }},
	})
}

// stringMap decodes a mapping of names to string values.
func (d *decoder) stringMap(n *yaml.Node, path string, dst *map[string]string) {
	n = resolve(n)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.problem(n.Line, path, "must be a mapping of object names to schedules, such as {Account: 5m}")
		return
	}
	out := map[string]string{}
	first := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		p := path + "." + k.Value
		if line, dup := first[strings.ToLower(k.Value)]; dup {
			d.problem(k.Line, p, "repeated object (first at line %d)", line)
			continue
		}
		first[strings.ToLower(k.Value)] = k.Line
		d.lines[p] = resolve(v).Line
		var s string
		if d.str(v, p, &s) {
			out[k.Value] = s
		}
	}
	*dst = out
}

// fraction decodes a number such as 0.8 or a percentage such as 80%.
func (d *decoder) fraction(n *yaml.Node, path string, dst *float64) {
	v, fromEnv, ok := d.scalar(n, path)
	if !ok {
		return
	}
	text := strings.TrimSpace(v)
	scale := 1.0
	if t, pct := strings.CutSuffix(text, "%"); pct {
		text, scale = strings.TrimSpace(t), 100
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		d.problem(resolve(n).Line, path, "must be a share such as 0.8 or 80%% (got %s)", quote(v, fromEnv))
		return
	}
	*dst = f / scale
}

func (s *Serve) check(v *checker) {
	host, port, err := net.SplitHostPort(s.Listen)
	switch {
	case s.Listen == "":
		v.add("serve.listen", "required, such as %s", DefaultServeListen)
	case err != nil:
		v.add("serve.listen", "must be host:port, such as %s (got %q)", DefaultServeListen, s.Listen)
	default:
		if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			v.add("serve.listen", "port %q must be a number from 0 to 65535", port)
		}
		if !isLoopback(host) && s.Token.IsZero() {
			v.add("serve.token", "required when serve.listen is not a loopback address (127.0.0.1, ::1, localhost): anyone who can reach %s could read the status and trigger runs; set it from the environment, such as ${SFSYNC_SERVE_TOKEN}", s.Listen)
		}
	}
	if !s.Token.IsZero() && len(s.Token.Reveal()) < minTokenLength {
		v.add("serve.token", "must be at least %d characters long", minTokenLength)
	}
	if msg := scheduleProblem(s.Schedule); msg != "" {
		v.add("serve.schedule", "%s", msg)
	}
	names := make([]string, 0, len(s.Schedules))
	for name := range s.Schedules {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		p := "serve.schedules." + name
		if !isName(name) {
			v.add(p, "%q is not an object API name", name)
		}
		if msg := scheduleProblem(s.Schedules[name]); msg != "" {
			v.add(p, "%s", msg)
		}
	}
	if s.Retry.MaxAttempts < 1 {
		v.add("serve.retry.max_attempts", "must be at least 1 (1: never retry before the next scheduled run)")
	}
	if s.Retry.InitialDelay <= 0 {
		v.add("serve.retry.initial_delay", "must be positive, such as 30s")
	}
	if s.Retry.MaxDelay < s.Retry.InitialDelay {
		v.add("serve.retry.max_delay", "must be at least serve.retry.initial_delay")
	}
	if s.BudgetShare <= 0 || s.BudgetShare > 1 || math.IsNaN(s.BudgetShare) {
		v.add("serve.budget_share", "must be more than 0 and at most 1, such as 0.8 (80%% of the org's daily API allowance)")
	}
	if s.RunRetention < time.Hour {
		v.add("serve.run_retention", "must be at least 1h, such as 720h (30 days)")
	}
	if s.LeaseTTL < 4*time.Second {
		v.add("serve.lease_ttl", "must be at least 4s, such as 2m (leases are renewed every third of it)")
	}
}

// scheduleProblem checks a schedule's shape: an interval of at least 1s
// ("15m", "every 15m", "@every 15m"), a cron shorthand (@hourly, @daily,
// @weekly, @monthly, @yearly) or five cron fields, optionally after
// CRON_TZ=<zone>. The service parses cron fields fully when it starts.
func scheduleProblem(s string) string {
	const hint = `must be an interval such as "15m" or a cron expression such as "*/15 * * * *"`
	text := strings.TrimSpace(s)
	lower := strings.ToLower(text)
	if text == "" {
		return hint
	}
	every := false
	for _, prefix := range []string{"@every ", "every "} {
		if rest, ok := strings.CutPrefix(lower, prefix); ok {
			lower, every = strings.TrimSpace(rest), true
			break
		}
	}
	d, err := time.ParseDuration(lower)
	if every && err != nil {
		return fmt.Sprintf("%q is not a duration such as 15m or 1h30m", lower)
	}
	if err == nil {
		if d < time.Second {
			return "the interval must be at least 1s"
		}
		return ""
	}
	switch lower {
	case "@hourly", "@daily", "@midnight", "@weekly", "@monthly", "@yearly", "@annually":
		return ""
	}
	if rest, ok := strings.CutPrefix(text, "CRON_TZ="); ok {
		zone, spec, found := strings.Cut(rest, " ")
		if !found || zone == "" {
			return "CRON_TZ=<zone> must be followed by a cron expression"
		}
		if _, err := time.LoadLocation(zone); err != nil {
			return fmt.Sprintf("unknown time zone %q in CRON_TZ", zone)
		}
		text = spec
	}
	fields := strings.Fields(text)
	if len(fields) != 5 {
		return hint + fmt.Sprintf(" (a cron expression has 5 fields: minute hour day-of-month month day-of-week; got %d)", len(fields))
	}
	for _, f := range fields {
		for _, r := range f {
			if !(isWordRune(r) || r == '*' || r == ',' || r == '-' || r == '/') {
				return fmt.Sprintf("cron field %q has %q; fields take numbers, names, *, ranges (1-5), steps (*/15) and lists (1,15)", f, r)
			}
		}
	}
	return ""
}
