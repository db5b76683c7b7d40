package orchestrator

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sfsync/sfsync"
)

var t0 = time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC)

// eventCases are every kind of event, with the variants that lead to
// different transitions, by column name of the table below.
func eventCases() map[string]Event {
	at := t0.Add(time.Minute)
	next := t0.Add(time.Hour)
	cases := map[string]Event{
		"start":     {Kind: EventStart, At: at},
		"fin:ok":    {Kind: EventFinish, At: at, NextRun: next, Run: sfsync.Run{ID: "r2", Status: sfsync.RunComplete}},
		"fin:part":  {Kind: EventFinish, At: at, NextRun: next, Run: sfsync.Run{ID: "r2", Status: sfsync.RunPartial, Reason: "API limit reached"}},
		"fin:retry": {Kind: EventFinish, At: at, NextRun: next, Retryable: true, Run: sfsync.Run{ID: "r2", Status: sfsync.RunFailed, Error: "503"}},
		"fin:perm":  {Kind: EventFinish, At: at, NextRun: next, Run: sfsync.Run{ID: "r2", Status: sfsync.RunFailed, Error: "INVALID_FIELD"}},
		"fin:run":   {Kind: EventFinish, At: at, NextRun: next, Run: sfsync.Run{ID: "r2", Status: sfsync.RunRunning}},
		"skip":      {Kind: EventSkip, At: at, NextRun: at.Add(time.Minute), Reason: "API budget: org usage 900/1000 above 80%"},
		"trig":      {Kind: EventTrigger, At: at},
		"trig:full": {Kind: EventTrigger, At: at, Full: true},
		"interrupt": {Kind: EventInterrupt, At: at},
		"bogus":     {Kind: EventKind(99), At: at},
	}
	for _, s := range States() {
		cases["ph:"+string(s)] = Event{Kind: EventPhase, At: at, Phase: s}
	}
	return cases
}

// transitionTable is the whole state machine: for each state (row) and
// event (column), the state after it. "-" is an invalid transition, "="
// leaves the status unchanged, "R" is ErrRunning.
const transitionTable = `
state          start       ph:pending ph:describing ph:extracting ph:loading ph:consolidating ph:cleaning_up ph:done ph:retrying ph:failed fin:ok fin:part fin:retry fin:perm fin:run skip    trig    trig:full interrupt bogus
pending        describing  -          -             -             -          -                -              -       -           -         -      -        -         -        -       pending pending pending   -         -
describing     -           -          =             extracting    -          -                cleaning_up    -       -           -         -      -        -         -        -       -       R       R         pending   -
extracting     -           -          -             =             loading    consolidating    cleaning_up    -       -           -         -      -        -         -        -       -       R       R         pending   -
loading        -           -          -             extracting    =          consolidating    cleaning_up    -       -           -         -      -        -         -        -       -       R       R         pending   -
consolidating  -           -          -             extracting    loading    =                cleaning_up    -       -           -         -      -        -         -        -       -       R       R         pending   -
cleaning_up    -           -          -             -             -          -                =              -       -           -         done   done     retrying  failed   -       -       R       R         pending   -
done           describing  -          -             -             -          -                -              -       -           -         -      -        -         -        -       pending pending pending   -         -
retrying       describing  -          -             -             -          -                -              -       -           -         -      -        -         -        -       pending pending pending   -         -
failed         describing  -          -             -             -          -                -              -       -           -         -      -        -         -        -       pending pending pending   -         -
`

// TestTransitionTable runs every event in every state and checks the
// outcome against the table, which must cover every pair.
func TestTransitionTable(t *testing.T) {
	events := eventCases()
	lines := strings.Split(strings.TrimSpace(transitionTable), "\n")
	header := strings.Fields(lines[0])[1:]
	if len(header) != len(events) {
		t.Fatalf("the table has %d event columns, there are %d event cases", len(header), len(events))
	}
	seenStates := map[State]bool{}
	policy := RetryPolicy{MaxAttempts: 3, Initial: time.Second, Max: time.Minute}
	for _, line := range lines[1:] {
		cells := strings.Fields(line)
		from := State(cells[0])
		if !from.Valid() {
			t.Fatalf("unknown state %q in the table", from)
		}
		seenStates[from] = true
		if len(cells)-1 != len(header) {
			t.Fatalf("row %s has %d cells, want %d", from, len(cells)-1, len(header))
		}
		for i, col := range header {
			e, ok := events[col]
			if !ok {
				t.Fatalf("unknown event column %q", col)
			}
			want := cells[i+1]
			t.Run(string(from)+"/"+col, func(t *testing.T) {
				s := Status{Object: "Account", State: from, Attempt: 1, RunID: "r1", UpdatedAt: t0}
				got, err := Transition(s, e, policy)
				switch want {
				case "-":
					if !errors.Is(err, ErrInvalidTransition) {
						t.Fatalf("got %s, %v; want ErrInvalidTransition", got.State, err)
					}
					if diff := cmp.Diff(s, got); diff != "" {
						t.Errorf("a refused event changed the status (-before +after):\n%s", diff)
					}
				case "R":
					if !errors.Is(err, ErrRunning) {
						t.Fatalf("got %s, %v; want ErrRunning", got.State, err)
					}
				case "=":
					if err != nil {
						t.Fatal(err)
					}
					if diff := cmp.Diff(s, got); diff != "" {
						t.Errorf("status changed (-before +after):\n%s", diff)
					}
				default:
					if err != nil {
						t.Fatal(err)
					}
					if got.State != State(want) {
						t.Errorf("state %s, want %s", got.State, want)
					}
					if !got.UpdatedAt.Equal(e.At) {
						t.Errorf("UpdatedAt %v, want the event's time %v", got.UpdatedAt, e.At)
					}
				}
			})
		}
	}
	for _, s := range States() {
		if !seenStates[s] {
			t.Errorf("the table has no row for %s", s)
		}
	}
}

// TestTransitionFields checks what each transition records besides the
// state.
func TestTransitionFields(t *testing.T) {
	policy := RetryPolicy{MaxAttempts: 3, Initial: 10 * time.Second, Max: time.Minute}
	at := t0.Add(time.Minute)
	next := t0.Add(time.Hour)
	cleaning := Status{Object: "Account", State: StateCleaningUp, Full: true, Attempt: 1, Outcome: sfsync.RunFailed, Error: "old", UpdatedAt: t0}
	for _, tc := range []struct {
		name string
		from Status
		e    Event
		want Status
	}{
		{
			name: "complete clears attempts, errors and the full refresh request",
			from: cleaning,
			e:    Event{Kind: EventFinish, At: at, NextRun: next, Run: sfsync.Run{ID: "r2", Status: sfsync.RunComplete}},
			want: Status{Object: "Account", State: StateDone, NextRun: next, RunID: "r2", Outcome: sfsync.RunComplete, UpdatedAt: at},
		},
		{
			name: "partial keeps the reason and the full refresh request",
			from: cleaning,
			e:    Event{Kind: EventFinish, At: at, NextRun: next, Run: sfsync.Run{ID: "r2", Status: sfsync.RunPartial, Reason: "API budget"}},
			want: Status{Object: "Account", State: StateDone, Full: true, NextRun: next, RunID: "r2", Outcome: sfsync.RunPartial, Reason: "API budget", UpdatedAt: at},
		},
		{
			name: "a retryable failure with attempts left retries after the backoff",
			from: cleaning,
			e:    Event{Kind: EventFinish, At: at, NextRun: next, Retryable: true, Run: sfsync.Run{ID: "r2", Status: sfsync.RunFailed, Error: "503"}},
			want: Status{Object: "Account", State: StateRetrying, Full: true, Attempt: 2, NextRun: next, NextAttempt: at.Add(20 * time.Second),
				RunID: "r2", Outcome: sfsync.RunFailed, Error: "503", UpdatedAt: at},
		},
		{
			name: "the last attempt fails the object until its next run",
			from: Status{Object: "Account", State: StateCleaningUp, Attempt: 2},
			e:    Event{Kind: EventFinish, At: at, NextRun: next, Retryable: true, Run: sfsync.Run{ID: "r3", Status: sfsync.RunFailed, Error: "503"}},
			want: Status{Object: "Account", State: StateFailed, Attempt: 3, NextRun: next, RunID: "r3", Outcome: sfsync.RunFailed, Error: "503", UpdatedAt: at},
		},
		{
			name: "a permanent failure is not retried",
			from: Status{Object: "Account", State: StateCleaningUp},
			e:    Event{Kind: EventFinish, At: at, NextRun: next, Run: sfsync.Run{ID: "r2", Status: sfsync.RunFailed, Error: "INVALID_FIELD"}},
			want: Status{Object: "Account", State: StateFailed, Attempt: 1, NextRun: next, RunID: "r2", Outcome: sfsync.RunFailed, Error: "INVALID_FIELD", UpdatedAt: at},
		},
		{
			name: "start clears the retry time and keeps the last outcome",
			from: Status{Object: "Account", State: StateRetrying, Attempt: 2, NextAttempt: at, Outcome: sfsync.RunFailed, Error: "503"},
			e:    Event{Kind: EventStart, At: at},
			want: Status{Object: "Account", State: StateDescribing, Attempt: 2, Outcome: sfsync.RunFailed, Error: "503", UpdatedAt: at},
		},
		{
			name: "skip holds the object back, partial with the reason",
			from: Status{Object: "Account", State: StateRetrying, Attempt: 1, NextAttempt: at, NextRun: next},
			e:    Event{Kind: EventSkip, At: at, NextRun: at.Add(time.Minute), Reason: "API budget: org usage 900/1000 above 80%"},
			want: Status{Object: "Account", State: StatePending, Attempt: 1, NextRun: at.Add(time.Minute), Outcome: sfsync.RunPartial,
				Reason: "API budget: org usage 900/1000 above 80%", UpdatedAt: at},
		},
		{
			name: "trigger makes the object due now; full sticks",
			from: Status{Object: "Account", State: StateFailed, NextRun: next, Full: true},
			e:    Event{Kind: EventTrigger, At: at},
			want: Status{Object: "Account", State: StatePending, NextRun: at, Full: true, UpdatedAt: at},
		},
		{
			name: "trigger full asks for a full refresh",
			from: Status{Object: "Account", State: StateDone, NextRun: next},
			e:    Event{Kind: EventTrigger, At: at, Full: true},
			want: Status{Object: "Account", State: StatePending, NextRun: at, Full: true, UpdatedAt: at},
		},
		{
			name: "interrupt resumes at once and says where it stopped",
			from: Status{Object: "Account", State: StateConsolidating, NextRun: next, Full: true},
			e:    Event{Kind: EventInterrupt, At: at},
			want: Status{Object: "Account", State: StatePending, NextRun: at, Full: true,
				Error: "interrupted while consolidating; resumes from the last committed batch", UpdatedAt: at},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Transition(tc.from, tc.e, policy)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestTransitionRejectsUnknownState(t *testing.T) {
	_, err := Transition(Status{Object: "Account", State: "sleeping"}, Event{Kind: EventStart, At: t0}, DefaultRetryPolicy())
	if !errors.Is(err, ErrInvalidTransition) || !strings.Contains(err.Error(), "Account") {
		t.Fatalf("err = %v, want ErrInvalidTransition naming the object", err)
	}
}

func TestBackoff(t *testing.T) {
	p := RetryPolicy{MaxAttempts: 10, Initial: 30 * time.Second, Max: 5 * time.Minute}
	var got []time.Duration
	for a := 1; a <= 6; a++ {
		got = append(got, p.Backoff(a))
	}
	want := []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 5 * time.Minute, 5 * time.Minute}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("backoff (-want +got):\n%s", diff)
	}
	if d := (RetryPolicy{Initial: time.Second}).Backoff(200); d <= 0 {
		t.Errorf("an uncapped backoff overflowed to %v", d)
	}
}

func TestDue(t *testing.T) {
	later := t0.Add(time.Hour)
	for _, tc := range []struct {
		s    Status
		want bool
	}{
		{Status{State: StatePending}, true},
		{Status{State: StatePending, NextRun: later}, false},
		{Status{State: StateDone, NextRun: t0}, true},
		{Status{State: StateFailed, NextRun: later}, false},
		{Status{State: StateRetrying, NextRun: later, NextAttempt: t0}, true},
		{Status{State: StateRetrying, NextRun: t0, NextAttempt: later}, false},
		{Status{State: StateExtracting}, false},
	} {
		if got := Due(tc.s, t0); got != tc.want {
			t.Errorf("Due(%+v) = %v, want %v", tc.s, got, tc.want)
		}
	}
}
