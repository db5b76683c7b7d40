package orchestrator

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseScheduleErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "empty schedule"},
		{"   ", "empty schedule"},
		{"500ms", "at least 1s"},
		{"every soon", `"soon" is not a duration`},
		{"* * * *", "5 fields"},
		{"* * * * * *", "5 fields"},
		{"60 * * * *", "minute field \"60\": 60 is outside 0-59"},
		{"* 24 * * *", "hour field"},
		{"* * 0 * *", "day of month field \"0\": 0 is outside 1-31"},
		{"* * * 13 *", "month field"},
		{"* * * FOO *", `"FOO" is not a number or a name such as JAN`},
		{"* * * * 8", "day of week field"},
		{"*/0 * * * *", `step "0"`},
		{"5-1 * * * *", "runs backwards"},
		{"a * * * *", `"a" is not a number`},
		{"CRON_TZ=Mars/Olympus 0 6 * * *", `unknown time zone "Mars/Olympus"`},
		{"CRON_TZ=UTC", "must be followed by a cron expression"},
	} {
		_, err := ParseSchedule(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseSchedule(%q) error = %v, want it to say %q", tc.in, err, tc.want)
		}
	}
}

func TestScheduleNext(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skipf("no time zone database: %v", err)
	}
	utc := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse("2006-01-02 15:04:05", s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	local := func(s string) time.Time {
		t.Helper()
		v, err := time.ParseInLocation("2006-01-02 15:04", s, ny)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		sched      string
		from, want time.Time
		text       string
	}{
		{"15m", utc("2025-06-01 10:07:30"), utc("2025-06-01 10:22:30"), "every 15m0s"},
		{"every 90s", utc("2025-06-01 10:00:00"), utc("2025-06-01 10:01:30"), "every 1m30s"},
		{"@every 1h", utc("2025-06-01 10:00:00"), utc("2025-06-01 11:00:00"), "every 1h0m0s"},
		{"*/15 * * * *", utc("2025-06-01 10:07:30"), utc("2025-06-01 10:15:00"), "*/15 * * * *"},
		{"*/15 * * * *", utc("2025-06-01 10:15:00"), utc("2025-06-01 10:30:00"), ""},
		{"*/15 * * * *", utc("2025-06-01 23:59:00"), utc("2025-06-02 00:00:00"), ""},
		{"5 * * * *", utc("2025-06-01 10:05:00"), utc("2025-06-01 11:05:00"), ""},
		{"0 6 * * *", utc("2025-06-01 06:00:01"), utc("2025-06-02 06:00:00"), ""},
		{"30 2 * * MON-FRI", utc("2025-06-06 03:00:00"), utc("2025-06-09 02:30:00"), ""}, // Friday → Monday
		{"0 0 1 * *", utc("2025-01-31 12:00:00"), utc("2025-02-01 00:00:00"), ""},
		{"0 0 31 * *", utc("2025-02-01 00:00:00"), utc("2025-03-31 00:00:00"), ""},
		{"0 0 29 2 *", utc("2025-03-01 00:00:00"), utc("2028-02-29 00:00:00"), ""},
		{"0 0 30 2 *", utc("2025-01-01 00:00:00"), time.Time{}, ""},                   // never
		{"0 12 * * 7", utc("2025-06-01 12:00:00"), utc("2025-06-08 12:00:00"), ""},    // 7 is Sunday
		{"0 12 13 * FRI", utc("2025-06-01 00:00:00"), utc("2025-06-06 12:00:00"), ""}, // either day field
		{"0,30 9-17/4 * JAN,jun *", utc("2025-06-01 09:31:00"), utc("2025-06-01 13:00:00"), ""},
		{"@hourly", utc("2025-06-01 10:59:59"), utc("2025-06-01 11:00:00"), "@hourly"},
		{"@daily", utc("2025-06-01 10:00:00"), utc("2025-06-02 00:00:00"), ""},
		{"@weekly", utc("2025-06-02 10:00:00"), utc("2025-06-08 00:00:00"), ""},
		{"@monthly", utc("2025-06-02 10:00:00"), utc("2025-07-01 00:00:00"), ""},
		{"10/20 * * * *", utc("2025-06-01 10:31:00"), utc("2025-06-01 10:50:00"), ""},
		{"CRON_TZ=America/New_York 0 6 * * *", utc("2025-06-01 12:00:00"), local("2025-06-02 06:00"), ""},
		// Daylight saving: 02:30 does not exist on 2025-03-09 in New York,
		// so that day has no run; 01:30 happens in EST after the fall back.
		{"30 2 * * *", local("2025-03-08 03:00"), local("2025-03-10 02:30"), ""},
		{"0 3 * * *", local("2025-03-09 00:00"), local("2025-03-09 03:00"), ""},
		{"30 1 * * *", local("2025-11-02 00:00"), local("2025-11-02 01:30"), ""},
	} {
		s, err := ParseSchedule(tc.sched)
		if err != nil {
			t.Errorf("ParseSchedule(%q): %v", tc.sched, err)
			continue
		}
		got := s.Next(tc.from)
		if !got.Equal(tc.want) {
			t.Errorf("%q.Next(%v) = %v, want %v", tc.sched, tc.from, got, tc.want)
		}
		if tc.text != "" && s.String() != tc.text {
			t.Errorf("%q.String() = %q, want %q", tc.sched, s.String(), tc.text)
		}
	}
}

func TestPlan(t *testing.T) {
	now := t0
	statuses := []Status{
		{Object: "Lead", State: StateDone, NextRun: now.Add(-time.Minute)},
		{Object: "Account", State: StatePending},
		{Object: "Contact", State: StateRetrying, NextAttempt: now.Add(-time.Minute), NextRun: now.Add(time.Hour)},
		{Object: "Case", State: StateFailed, NextRun: now.Add(10 * time.Minute)},
		{Object: "Opportunity", State: StateExtracting},
		{Object: "Task", State: StateRetrying, NextAttempt: now.Add(5 * time.Minute)},
	}
	due, wake := Plan(statuses, now)
	if diff := cmp.Diff([]string{"Account", "Contact", "Lead"}, due); diff != "" {
		t.Errorf("due (-want +got):\n%s", diff)
	}
	if !wake.Equal(now.Add(5 * time.Minute)) {
		t.Errorf("wake = %v, want the retry of Task in 5m", wake)
	}
	due, wake = Plan([]Status{{Object: "Opportunity", State: StateLoading}}, now)
	if len(due) != 0 || !wake.IsZero() {
		t.Errorf("only a running object: due %v, wake %v; want nothing", due, wake)
	}
}

// TestScheduleWithClock drives an interval and a cron schedule with a
// clock moved by hand, as the runner does: each run's next time comes from
// the schedule at the end of the previous one.
func TestScheduleWithClock(t *testing.T) {
	clock := t0 // 10:00
	every, _ := ParseSchedule("25m")
	cron, _ := ParseSchedule("0 * * * *")
	statuses := []Status{
		{Object: "Account", State: StateDone, NextRun: every.Next(clock)},
		{Object: "Contact", State: StateDone, NextRun: cron.Next(clock)},
	}
	var log []string
	for range 12 * 60 / 5 { // 12 hours, in 5-minute steps
		clock = clock.Add(5 * time.Minute)
		due, _ := Plan(statuses, clock)
		for _, name := range due {
			log = append(log, name+"@"+clock.Format("15:04"))
			for i := range statuses {
				if statuses[i].Object == name {
					statuses[i].NextRun = map[string]Schedule{"Account": every, "Contact": cron}[name].Next(clock)
				}
			}
		}
	}
	joined := strings.Join(log, " ")
	for _, want := range []string{"Account@10:25", "Account@10:50", "Account@11:15", "Contact@11:00", "Contact@12:00", "Contact@22:00"} {
		if !strings.Contains(joined, want) {
			t.Errorf("no run %s in %s", want, joined)
		}
	}
	if strings.Contains(joined, "Contact@10:") || strings.Contains(joined, "Contact@11:05") {
		t.Errorf("cron object ran off its hour: %s", joined)
	}
}

func FuzzParseSchedule(f *testing.F) {
	for _, s := range []string{"15m", "every 1h", "*/5 * * * *", "0 0 29 2 *", "1-5/2 0,12 * JAN-MAR mon-fri", "@daily", "CRON_TZ=UTC 0 6 * * *", "5/0 * * * *"} {
		f.Add(s)
	}
	from := time.Date(2025, 6, 1, 10, 7, 30, 0, time.UTC)
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseSchedule(in)
		if err != nil {
			return
		}
		next := s.Next(from)
		if !next.IsZero() && !next.After(from) {
			t.Fatalf("%q.Next(%v) = %v, not after it", in, from, next)
		}
		again, err := ParseSchedule(s.String())
		if err != nil {
			t.Fatalf("%q renders as %q, which does not parse: %v", in, s.String(), err)
		}
		if got := again.Next(from); !got.Equal(next) {
			t.Fatalf("%q and its rendering %q disagree: %v, %v", in, s.String(), next, got)
		}
	})
}
