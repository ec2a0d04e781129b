package sim

import "container/heap"

// Queue is a simulator's agenda: functions to run at given virtual times.
// Of two due at the same time, the one with the lower tie runs first, then
// the one scheduled first; ties drawn from a seed's random source make the
// interleaving random yet the same for every run of that seed. Both the tab
// simulator (Net) and internal/tablesim run on it.
type Queue struct {
	events eventQueue
	order  int64
}

// At schedules run at time t with the given tie.
func (q *Queue) At(t, tie int64, run func()) {
	q.order++
	heap.Push(&q.events, &event{at: t, order: q.order, tie: tie, run: run})
}

// Next removes the first event due at or before until and returns its time
// and function; ok is false when none is due.
func (q *Queue) Next(until int64) (at int64, run func(), ok bool) {
	if q.events.Len() == 0 || q.events[0].at > until {
		return 0, nil, false
	}
	e := heap.Pop(&q.events).(*event)
	return e.at, e.run, true
}

type event struct {
	at    int64
	order int64
	tie   int64
	run   func()
}

type eventQueue []*event

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	if q[i].tie != q[j].tie {
		return q[i].tie < q[j].tie
	}
	return q[i].order < q[j].order
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(*event)) }
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}
