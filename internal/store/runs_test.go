package store

import (
	"context"
	"testing"
	"time"
)

func TestScheduleRunsOncePerSlot(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	slot := time.Date(2026, 5, 4, 5, 0, 0, 0, time.UTC)
	id, ok, err := db.StartRun(ctx, "send", slot, "2026-W19", "a", slot)
	if err != nil || !ok {
		t.Fatalf("first start: %v %v", ok, err)
	}
	if _, ok, err := db.StartRun(ctx, "send", slot, "2026-W19", "b", slot.Add(time.Minute)); err != nil || ok {
		t.Fatalf("second start of the same slot: ok=%v err=%v", ok, err)
	}
	if _, ok, _ := db.StartRun(ctx, "build", slot, "2026-W19", "a", slot); !ok {
		t.Fatal("another kind in the same slot is separate")
	}
	if err := db.FinishRun(ctx, id, "skipped", "2 new stories, need 3", slot.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	runs, err := db.RecentRuns(ctx, 10)
	if err != nil || len(runs) != 2 {
		t.Fatalf("runs %+v %v", runs, err)
	}
	var send ScheduleRun
	for _, r := range runs {
		if r.Kind == "send" {
			send = r
		}
	}
	if send.Outcome != "skipped" || send.Detail == "" || send.FinishedAt.IsZero() || !send.ScheduledAt.Equal(slot) || send.Holder != "a" {
		t.Fatalf("send run %+v", send)
	}
}

func TestInterruptRunsLeftByAnotherHolder(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	slot := time.Date(2026, 5, 4, 5, 0, 0, 0, time.UTC)
	gone, _, err := db.StartRun(ctx, "send", slot, "2026-W19", "dead-process", slot)
	if err != nil {
		t.Fatal(err)
	}
	mine, _, err := db.StartRun(ctx, "build", slot, "2026-W20", "me", slot)
	if err != nil {
		t.Fatal(err)
	}
	finished, _, err := db.StartRun(ctx, "send", slot.Add(-7*24*time.Hour), "2026-W18", "dead-process", slot)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.FinishRun(ctx, finished, "done", "issue 2026-W18: 5 sent", slot); err != nil {
		t.Fatal(err)
	}
	n, err := db.InterruptRuns(ctx, "me", "its process stopped", slot.Add(time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("InterruptRuns = %d, %v; want 1", n, err)
	}
	runs, err := db.RecentRuns(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64]string{gone: "interrupted", mine: "running", finished: "done"}
	for _, r := range runs {
		if r.Outcome != want[r.ID] {
			t.Errorf("run %d (%s %s by %s): %s, want %s", r.ID, r.Kind, r.Week, r.Holder, r.Outcome, want[r.ID])
		}
		if r.ID == gone && (r.Detail != "its process stopped" || r.FinishedAt.IsZero()) {
			t.Errorf("interrupted run %+v", r)
		}
	}
}

// A held slot is handed back to one caller at a time; any other outcome is not retried.
func TestRetryRunTakesBackOnlyAHeldSlot(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	slot := time.Date(2026, 5, 4, 5, 0, 0, 0, time.UTC)
	if _, _, ok, err := db.RetryRun(ctx, "send", slot, "a", slot); err != nil || ok {
		t.Fatalf("a slot never recorded: ok=%v err=%v", ok, err)
	}
	id, _, err := db.StartRun(ctx, "send", slot, "2026-W19", "a", slot)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.FinishRun(ctx, id, "held", "waits for approval", slot); err != nil {
		t.Fatal(err)
	}
	later := slot.Add(time.Hour)
	got, detail, ok, err := db.RetryRun(ctx, "send", slot, "b", later)
	if err != nil || !ok || got != id || detail != "waits for approval" {
		t.Fatalf("retry of the held slot: id=%d detail=%q ok=%v err=%v", got, detail, ok, err)
	}
	if _, _, ok, _ := db.RetryRun(ctx, "send", slot, "c", later); ok {
		t.Fatal("a held slot was handed back twice")
	}
	runs, _ := db.RecentRuns(ctx, 1)
	if r := runs[0]; r.Outcome != "running" || r.Holder != "b" || !r.StartedAt.Equal(later) || !r.FinishedAt.IsZero() {
		t.Fatalf("retried run %+v", r)
	}
	if err := db.FinishRun(ctx, id, "done", "sent", later); err != nil {
		t.Fatal(err)
	}
	if _, _, ok, _ := db.RetryRun(ctx, "send", slot, "c", later); ok {
		t.Fatal("a done slot was handed back")
	}
}
