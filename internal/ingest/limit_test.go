package ingest

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestActionsPerVisitCapped: once a visit holds MaxActionsPerVisit actions its further hits
// are answered as accepted, not stored, and counted; a heartbeat still extends it, the cap
// holds after a restart, and a new visit of the same visitor starts afresh.
func TestActionsPerVisitCapped(t *testing.T) {
	r := newRig(t, t.TempDir(), &testSite)
	r.maxActions = 5
	if err := r.p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.open()
	t0 := r.now
	hit := func(i int, extra string) error {
		return r.track(fmt.Sprintf("idsite=1&rec=1&_id=0123456789abcdef&url=https%%3A%%2F%%2Fclinic.example%%2Fp%d%s", i, extra), t0.Add(time.Duration(i)*time.Second))
	}
	for i := 1; i <= 7; i++ {
		if err := hit(i, ""); err != nil {
			t.Fatalf("hit %d: %v, want it answered as accepted", i, err)
		}
	}
	if err := hit(8, "&ping=1"); err != nil {
		t.Fatal(err)
	}
	st := r.p.StatsSnapshot()
	if st.OverActionLimit.Load() != 2 || st.Ignored.Load() != 2 || st.Accepted.Load() != 6 {
		t.Fatalf("over the limit %d, ignored %d, accepted %d; want 2, 2 and 6 (five actions and the heartbeat)",
			st.OverActionLimit.Load(), st.Ignored.Load(), st.Accepted.Load())
	}
	got := r.visits() // restarts the pipeline: the visit stays open, and full
	if len(got) != 1 || len(got[0].Actions) != 5 || got[0].Visit.Actions != 5 || got[0].Actions[4].URL != "https://clinic.example/p5" {
		t.Fatalf("stored %d visits, %+v", len(got), got)
	}
	if got[0].Visit.Duration() != 7 {
		t.Fatalf("duration %d, want 7: the heartbeat extends the full visit", got[0].Visit.Duration())
	}
	if err := hit(9, ""); err != nil || r.p.StatsSnapshot().OverActionLimit.Load() != 1 {
		t.Fatalf("after a restart: %v, %d dropped", err, r.p.StatsSnapshot().OverActionLimit.Load())
	}
	if err := hit(10, "&new_visit=1"); err != nil || r.p.StatsSnapshot().Accepted.Load() != 1 {
		t.Fatalf("a new visit: %v, %d accepted", err, r.p.StatsSnapshot().Accepted.Load())
	}
	got = r.visits()
	if len(got) != 2 || len(got[0].Actions) != 5 || len(got[1].Actions) != 1 || got[1].Actions[0].URL != "https://clinic.example/p10" {
		t.Fatalf("stored %d visits: %+v", len(got), got)
	}
}
