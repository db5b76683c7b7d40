package orchestrator

import (
	"errors"
	"fmt"
	"math/bits"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Schedule says when an object's runs start.
type Schedule interface {
	// Next returns the first start time strictly after t; the zero time
	// when there is none within five years.
	Next(t time.Time) time.Time
	// String renders the schedule as ParseSchedule accepts it.
	String() string
}

// DefaultSchedule is every 15 minutes.
const DefaultSchedule = 15 * time.Minute

// ParseSchedule reads a schedule:
//
//	15m, 1h30m, every 15m, @every 15m   an interval (at least 1s) from the
//	                                    end of the previous run
//	*/5 * * * *                         a cron expression: minute hour
//	                                    day-of-month month day-of-week
//	@hourly @daily @weekly @monthly     cron shorthands
//	CRON_TZ=Europe/Paris 0 6 * * *      a cron expression in a time zone
//
// Cron fields take *, numbers, ranges (1-5), steps (*/15, 1-30/2) and
// lists (1,15); months and weekdays may be names (JAN, MON); Sunday is 0
// or 7. When both day fields are restricted a day matching either one
// matches, as in cron. Without CRON_TZ, cron expressions follow the time
// zone of the times they are given (the server's local time).
func ParseSchedule(s string) (Schedule, error) {
	text := strings.TrimSpace(s)
	if text == "" {
		return nil, errors.New("empty schedule: write an interval such as 15m or a cron expression such as \"*/15 * * * *\"")
	}
	lower := strings.ToLower(text)
	for _, prefix := range []string{"@every ", "every "} {
		if rest, ok := strings.CutPrefix(lower, prefix); ok {
			return parseInterval(text, strings.TrimSpace(rest))
		}
	}
	if d, err := time.ParseDuration(text); err == nil {
		return interval(text, d)
	}
	switch lower {
	case "@hourly":
		return parseCron(text, "0 * * * *", nil)
	case "@daily", "@midnight":
		return parseCron(text, "0 0 * * *", nil)
	case "@weekly":
		return parseCron(text, "0 0 * * 0", nil)
	case "@monthly":
		return parseCron(text, "0 0 1 * *", nil)
	case "@yearly", "@annually":
		return parseCron(text, "0 0 1 1 *", nil)
	}
	var loc *time.Location
	expr := text
	if rest, ok := strings.CutPrefix(text, "CRON_TZ="); ok {
		zone, spec, found := strings.Cut(rest, " ")
		if !found {
			return nil, fmt.Errorf("schedule %q: CRON_TZ=<zone> must be followed by a cron expression", s)
		}
		l, err := time.LoadLocation(zone)
		if err != nil {
			return nil, fmt.Errorf("schedule %q: unknown time zone %q", s, zone)
		}
		loc, expr = l, spec
	}
	return parseCron(text, expr, loc)
}

func parseInterval(text, d string) (Schedule, error) {
	dur, err := time.ParseDuration(d)
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %q is not a duration such as 15m or 1h30m", text, d)
	}
	return interval(text, dur)
}

func interval(text string, d time.Duration) (Schedule, error) {
	if d < time.Second {
		return nil, fmt.Errorf("schedule %q: the interval must be at least 1s", text)
	}
	return Every(d), nil
}

// Every is a schedule that starts a run a fixed time after the previous
// one ended.
type Every time.Duration

// Next returns t plus the interval.
func (e Every) Next(t time.Time) time.Time { return t.Add(time.Duration(e)) }

// String renders "every 15m0s".
func (e Every) String() string { return "every " + time.Duration(e).String() }

// Cron is a five-field cron schedule.
type Cron struct {
	text   string
	loc    *time.Location // nil: the zone of the time given to Next
	minute uint64         // bit n: minute n
	hour   uint64
	dom    uint64 // bit n: day n of the month (1-31)
	month  uint64 // bit n: month n (1-12)
	dow    uint64 // bit n: weekday n (0 = Sunday)
	// domStar and dowStar: the day fields were "*" (unrestricted).
	domStar, dowStar bool
}

// String returns the expression as written.
func (c *Cron) String() string { return c.text }

var (
	monthNames = map[string]int{"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
		"jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12}
	dayNames = map[string]int{"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}
)

// cronField describes one field's range and names.
type cronField struct {
	name     string
	min, max int
	names    map[string]int
}

var cronFields = [5]cronField{
	{"minute", 0, 59, nil},
	{"hour", 0, 23, nil},
	{"day of month", 1, 31, nil},
	{"month", 1, 12, monthNames},
	{"day of week", 0, 7, dayNames},
}

func parseCron(text, expr string, loc *time.Location) (*Cron, error) {
	fields := strings.Fields(expr)
	if len(fields) != 5 {
		return nil, fmt.Errorf("schedule %q: a cron expression has 5 fields (minute hour day-of-month month day-of-week), not %d; or write an interval such as 15m", text, len(fields))
	}
	c := &Cron{text: text, loc: loc}
	dst := [5]*uint64{&c.minute, &c.hour, &c.dom, &c.month, &c.dow}
	for i, f := range fields {
		bits, err := parseCronField(f, cronFields[i])
		if err != nil {
			return nil, fmt.Errorf("schedule %q: %s field %q: %w", text, cronFields[i].name, f, err)
		}
		*dst[i] = bits
	}
	if c.dow&(1<<7) != 0 { // 7 is Sunday too
		c.dow = c.dow&^(1<<7) | 1
	}
	c.domStar, c.dowStar = fields[2] == "*", fields[4] == "*"
	return c, nil
}

// parseCronField parses a comma-separated list of *, n, a-b, with an
// optional /step, into a bit set.
func parseCronField(f string, spec cronField) (uint64, error) {
	var set uint64
	for _, part := range strings.Split(f, ",") {
		rng, stepText, hasStep := strings.Cut(part, "/")
		lo, hi := spec.min, spec.max
		switch {
		case rng == "*":
		case strings.Contains(rng, "-"):
			a, b, _ := strings.Cut(rng, "-")
			var err error
			if lo, err = cronValue(a, spec); err != nil {
				return 0, err
			}
			if hi, err = cronValue(b, spec); err != nil {
				return 0, err
			}
			if lo > hi {
				return 0, fmt.Errorf("range %s runs backwards", rng)
			}
		default:
			v, err := cronValue(rng, spec)
			if err != nil {
				return 0, err
			}
			lo = v
			if hasStep {
				hi = spec.max // "5/15" means from 5 to the end, every 15
			} else {
				hi = v
			}
		}
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepText)
			if err != nil || n < 1 {
				return 0, fmt.Errorf("step %q must be a whole number of at least 1", stepText)
			}
			step = n
		}
		for v := lo; v <= hi; v += step {
			set |= 1 << uint(v)
		}
	}
	return set, nil
}

func cronValue(s string, spec cronField) (int, error) {
	if v, ok := spec.names[strings.ToLower(s)]; ok {
		return v, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		if spec.names != nil {
			return 0, fmt.Errorf("%q is not a number or a name such as %s", s, firstName(spec.names))
		}
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if v < spec.min || v > spec.max {
		return 0, fmt.Errorf("%d is outside %d-%d", v, spec.min, spec.max)
	}
	return v, nil
}

func firstName(names map[string]int) string {
	keys := make([]string, 0, len(names))
	for k := range names {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return names[keys[i]] < names[keys[j]] })
	return strings.ToUpper(keys[0])
}

// Next returns the first minute strictly after t that matches, in the
// schedule's time zone (or t's). A wall-clock time skipped by a daylight
// saving change does not match.
func (c *Cron) Next(t time.Time) time.Time {
	loc := c.loc
	if loc == nil {
		loc = t.Location()
	}
	t = t.In(loc)
	// Start at the next whole minute.
	t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), 0, 0, loc).Add(time.Minute)
	limit := t.Year() + 5
	for t.Year() <= limit {
		if c.month&(1<<uint(t.Month())) == 0 {
			t = time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, loc)
			continue
		}
		if !c.dayMatches(t) {
			t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, loc)
			continue
		}
		if c.hour&(1<<uint(t.Hour())) == 0 {
			next := time.Date(t.Year(), t.Month(), t.Day(), t.Hour()+1, 0, 0, 0, loc)
			if !next.After(t) { // a daylight saving change repeated the hour
				next = t.Add(time.Hour).Truncate(time.Hour)
			}
			t = next
			continue
		}
		if c.minute&(1<<uint(t.Minute())) == 0 {
			// The next set minute in this hour, or the next hour.
			rest := c.minute >> uint(t.Minute()+1) << uint(t.Minute()+1)
			if rest == 0 {
				t = t.Add(time.Duration(60-t.Minute()) * time.Minute)
			} else {
				t = t.Add(time.Duration(bits.TrailingZeros64(rest)-t.Minute()) * time.Minute)
			}
			continue
		}
		return t
	}
	return time.Time{}
}

func (c *Cron) dayMatches(t time.Time) bool {
	dom := c.dom&(1<<uint(t.Day())) != 0
	dow := c.dow&(1<<uint(t.Weekday())) != 0
	if c.domStar || c.dowStar {
		return dom && dow
	}
	return dom || dow
}

// Plan returns the objects due at now (see Due), those due longest first
// and then by name, and the earliest time a not-yet-due object becomes due
// (zero when none will: every other object is running).
func Plan(statuses []Status, now time.Time) (due []string, wake time.Time) {
	type item struct {
		name string
		at   time.Time
	}
	var ready []item
	for _, s := range statuses {
		at, ok := DueAt(s)
		switch {
		case !ok:
		case !now.Before(at):
			ready = append(ready, item{s.Object, at})
		case wake.IsZero() || at.Before(wake):
			wake = at
		}
	}
	sort.SliceStable(ready, func(i, j int) bool {
		if !ready[i].at.Equal(ready[j].at) {
			return ready[i].at.Before(ready[j].at)
		}
		return ready[i].name < ready[j].name
	})
	for _, r := range ready {
		due = append(due, r.name)
	}
	return due, wake
}
