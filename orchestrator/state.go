package orchestrator

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/sfsync/sfsync"
)

// State is where an object is in its run cycle. The states and the events
// that move between them are the state machine Transition implements.
type State string

// States. Describing through CleaningUp are active: a run is in progress.
const (
	// StatePending waits for its next run time (NextRun): never run yet,
	// triggered by a user, held back by the API budget, or interrupted.
	StatePending State = "pending"
	// StateDescribing: the run reads the object's describe and prepares its
	// tables.
	StateDescribing State = "describing"
	// StateExtracting: records are read from the source into a batch.
	StateExtracting State = "extracting"
	// StateLoading: a batch is flushed into the staging table.
	StateLoading State = "loading"
	// StateConsolidating: a staged batch is merged into the final table
	// together with the cursor.
	StateConsolidating State = "consolidating"
	// StateCleaningUp: consumed staging rows and old run records are
	// removed.
	StateCleaningUp State = "cleaning_up"
	// StateDone: the latest run finished complete or partial; the next one
	// starts at NextRun.
	StateDone State = "done"
	// StateRetrying: the latest run failed with an error retrying can help;
	// the next attempt starts at NextAttempt.
	StateRetrying State = "retrying"
	// StateFailed: the latest run failed and retries are used up (or
	// cannot help); the schedule starts the next run at NextRun.
	StateFailed State = "failed"
)

// States lists every state, in cycle order.
func States() []State {
	return []State{StatePending, StateDescribing, StateExtracting, StateLoading, StateConsolidating,
		StateCleaningUp, StateDone, StateRetrying, StateFailed}
}

// Active reports whether a run is in progress in state s.
func (s State) Active() bool {
	switch s {
	case StateDescribing, StateExtracting, StateLoading, StateConsolidating, StateCleaningUp:
		return true
	}
	return false
}

// Valid reports whether s is one of the states.
func (s State) Valid() bool {
	for _, t := range States() {
		if s == t {
			return true
		}
	}
	return false
}

// Status is one object's place in the state machine, as the control tables
// persist it. Outcome, Reason and Error describe the latest finished run
// and stay while the next one is in progress.
type Status struct {
	Object string
	State  State
	// Full: the next (or current) run is a full refresh.
	Full bool
	// Attempt counts failed runs in a row; a complete or partial run resets
	// it.
	Attempt int
	// NextRun is when the schedule starts the next run (pending, done,
	// failed). Zero means at once.
	NextRun time.Time
	// NextAttempt is when a retrying object tries again.
	NextAttempt time.Time
	// RunID is the latest finished run's id.
	RunID string
	// Outcome is the latest finished run's status; "" before any.
	Outcome sfsync.RunStatus
	// Reason says why the latest run was partial, or why the object was
	// held back.
	Reason string
	// Error is the latest failure: the failed run's error, or how a run
	// was interrupted.
	Error string
	// UpdatedAt is when the status last changed.
	UpdatedAt time.Time
}

// EventKind names what happened to an object.
type EventKind int

// Events.
const (
	// EventStart: the runner starts a run (the object is due, its lease is
	// held and the API budget allows it).
	EventStart EventKind = iota + 1
	// EventPhase: the run entered Event.Phase.
	EventPhase
	// EventFinish: the run ended; Event.Run holds it.
	EventFinish
	// EventSkip: the object was due but the API budget kept it from
	// starting; Event.Reason says why, Event.NextRun when to look again.
	EventSkip
	// EventTrigger: a user asked for a run now (Event.Full: a full
	// refresh).
	EventTrigger
	// EventInterrupt: the run stopped without finishing: the process was
	// shut down, or was found killed at startup.
	EventInterrupt
)

// String names the event kind.
func (k EventKind) String() string {
	switch k {
	case EventStart:
		return "start"
	case EventPhase:
		return "phase"
	case EventFinish:
		return "finish"
	case EventSkip:
		return "skip"
	case EventTrigger:
		return "trigger"
	case EventInterrupt:
		return "interrupt"
	}
	return fmt.Sprintf("event(%d)", int(k))
}

// Event is something that happened to an object, with what the transition
// needs to know about it.
type Event struct {
	Kind EventKind
	At   time.Time
	// Phase is the phase entered (EventPhase).
	Phase State
	// Full asks for a full refresh (EventTrigger).
	Full bool
	// Run is the finished run (EventFinish).
	Run sfsync.Run
	// Retryable says whether running again can help a failed run
	// (EventFinish): false for permanent errors such as a missing field.
	Retryable bool
	// NextRun is the schedule's next run time after this event (EventFinish,
	// EventSkip).
	NextRun time.Time
	// Reason says why the object was held back (EventSkip).
	Reason string
}

// Errors Transition returns.
var (
	// ErrInvalidTransition: the event cannot happen in the object's state.
	ErrInvalidTransition = errors.New("invalid state transition")
	// ErrRunning: the object is running, so it cannot be triggered.
	ErrRunning = errors.New("a run of this object is in progress")
)

// RetryPolicy says how failed runs are retried: after Initial, doubling up
// to Max, at most MaxAttempts runs in a row before the object is failed
// until its next scheduled run.
type RetryPolicy struct {
	MaxAttempts int
	Initial     time.Duration
	Max         time.Duration
}

// DefaultRetryPolicy is 5 attempts, 30s apart at first, at most 30m.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxAttempts: 5, Initial: 30 * time.Second, Max: 30 * time.Minute}
}

// Backoff is the wait before retry number attempt (1 for the first retry):
// Initial × 2^(attempt-1), at most Max.
func (p RetryPolicy) Backoff(attempt int) time.Duration {
	d := p.Initial
	if d <= 0 {
		return 0
	}
	for i := 1; i < attempt; i++ {
		if p.Max > 0 && d >= p.Max || d > math.MaxInt64/2 {
			break
		}
		d *= 2
	}
	if p.Max > 0 && d > p.Max {
		d = p.Max
	}
	return d
}

// phaseMoves lists, per active state, the phases a run may enter next.
// Extraction, loading and consolidation alternate batch by batch (and
// overlap: the next batch is extracted while the previous one
// consolidates), so they may follow each other in any order; any of them
// may end in cleaning up.
var phaseMoves = map[State][]State{
	StateDescribing:    {StateExtracting, StateCleaningUp},
	StateExtracting:    {StateLoading, StateConsolidating, StateCleaningUp},
	StateLoading:       {StateExtracting, StateConsolidating, StateCleaningUp},
	StateConsolidating: {StateExtracting, StateLoading, StateCleaningUp},
	StateCleaningUp:    nil,
}

// Transition returns s after event e, or an error wrapping
// ErrInvalidTransition (or ErrRunning for a trigger during a run) when e
// cannot happen in s.State; s is then returned unchanged. It is a pure
// function: the runner performs the actions and persists the result.
//
//	pending, done, retrying, failed  --start-->     describing
//	describing                       --phase-->     extracting, cleaning_up
//	extracting, loading, consolidating --phase-->   each other, cleaning_up
//	active, phase already current    --phase-->     unchanged
//	cleaning_up  --finish complete|partial-->       done
//	cleaning_up  --finish failed-->                 retrying (attempts left, retryable) or failed
//	pending, done, retrying, failed  --skip-->      pending (held back until NextRun)
//	pending, done, retrying, failed  --trigger-->   pending, due at once
//	active       --interrupt-->                     pending, due at once
func Transition(s Status, e Event, p RetryPolicy) (Status, error) {
	bad := func(format string, args ...any) (Status, error) {
		return s, fmt.Errorf("%s: %s in state %s: %s: %w", s.Object, e.Kind, s.State, fmt.Sprintf(format, args...), ErrInvalidTransition)
	}
	if !s.State.Valid() {
		return bad("unknown state")
	}
	next := s
	next.UpdatedAt = e.At
	switch e.Kind {
	case EventStart:
		if s.State.Active() {
			return bad("a run is in progress")
		}
		next.State = StateDescribing
		next.NextAttempt = time.Time{}
	case EventPhase:
		if !s.State.Active() {
			return bad("no run is in progress")
		}
		if e.Phase == s.State {
			return s, nil
		}
		allowed := false
		for _, ph := range phaseMoves[s.State] {
			allowed = allowed || ph == e.Phase
		}
		if !allowed {
			return bad("cannot enter %s", e.Phase)
		}
		next.State = e.Phase
	case EventFinish:
		if s.State != StateCleaningUp {
			return bad("a run finishes after cleaning up")
		}
		next.RunID = e.Run.ID
		next.Outcome = e.Run.Status
		next.NextRun = e.NextRun
		next.NextAttempt = time.Time{}
		switch e.Run.Status {
		case sfsync.RunComplete:
			next.State, next.Attempt, next.Full = StateDone, 0, false
			next.Reason, next.Error = "", ""
		case sfsync.RunPartial:
			// A partial full refresh did not see every record: the next
			// run is full again.
			next.State, next.Attempt = StateDone, 0
			next.Reason, next.Error = e.Run.Reason, ""
		case sfsync.RunFailed:
			next.Attempt = s.Attempt + 1
			next.Reason, next.Error = "", e.Run.Error
			if e.Retryable && next.Attempt < p.MaxAttempts {
				next.State = StateRetrying
				next.NextAttempt = e.At.Add(p.Backoff(next.Attempt))
			} else {
				next.State = StateFailed
			}
		default:
			return bad("the run has status %q, not a finished one", e.Run.Status)
		}
	case EventSkip:
		if s.State.Active() {
			return bad("a run is in progress")
		}
		next.State = StatePending
		next.Outcome = sfsync.RunPartial
		next.Reason = e.Reason
		next.NextRun = e.NextRun
		next.NextAttempt = time.Time{}
	case EventTrigger:
		if s.State.Active() {
			return s, fmt.Errorf("%s: %w", s.Object, ErrRunning)
		}
		next.State = StatePending
		next.NextRun = e.At
		next.NextAttempt = time.Time{}
		next.Full = s.Full || e.Full
	case EventInterrupt:
		if !s.State.Active() {
			return bad("no run is in progress")
		}
		next.State = StatePending
		next.NextRun = e.At
		next.NextAttempt = time.Time{}
		next.Error = fmt.Sprintf("interrupted while %s; resumes from the last committed batch", phaseWords(s.State))
	default:
		return bad("unknown event")
	}
	return next, nil
}

// phaseWords renders an active state for messages.
func phaseWords(s State) string {
	switch s {
	case StateCleaningUp:
		return "cleaning up"
	default:
		return string(s)
	}
}

// DueAt is when an object in status s should next start a run: NextAttempt
// when retrying, NextRun otherwise (zero: at once). It is the zero time
// and false while a run is active.
func DueAt(s Status) (time.Time, bool) {
	switch {
	case s.State.Active():
		return time.Time{}, false
	case s.State == StateRetrying:
		return s.NextAttempt, true
	default:
		return s.NextRun, true
	}
}

// Due reports whether an object in status s should start a run at now.
func Due(s Status, now time.Time) bool {
	at, ok := DueAt(s)
	return ok && !now.Before(at)
}
