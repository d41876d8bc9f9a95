package ingest

import (
	"context"
	"time"

	"hearth/internal/event"
)

// flush writes a group of pending records to the spool, makes them durable with one
// fdatasync, and queues them for the applier. The committer's goroutine calls it, one group
// at a time.
func (p *Pipeline) flush(group []*pending) error {
	var recs []*record
	var bodies [][]byte
	for _, g := range group {
		recs = append(recs, g.recs...)
		bodies = append(bodies, g.bodies...)
	}
	if !p.spool.fits(framesSize(bodies)) {
		if err := p.spool.rotate(); err != nil {
			p.log.Error("spool rotation failed", "err", err)
			p.lastErr.Store("spool write failed")
			return err
		}
	}
	f, err := p.spool.write(recs, bodies)
	for _, g := range group {
		// The bodies are copied into the spool's buffer (or failed): their buffers are free.
		if g.buf != nil {
			bodyBufs.Put(g.buf)
			g.buf, g.bodies = nil, nil
		}
	}
	if err == nil {
		err = datasync(f)
		p.stats.Syncs.Add(1)
	}
	if err != nil {
		p.log.Error("spool write failed", "err", err)
		p.lastErr.Store("spool write failed")
		return err
	}
	p.applyMu.Lock()
	p.queue = append(p.queue, recs...)
	p.applyMu.Unlock()
	p.pending.Add(int64(len(recs)))
	return nil
}

func (p *Pipeline) takeQueue() []*record {
	p.applyMu.Lock()
	defer p.applyMu.Unlock()
	n := min(len(p.queue), p.opts.MaxBatch)
	batch := p.queue[:n:n]
	p.queue = p.queue[n:]
	if len(p.queue) == 0 {
		p.queue = nil
	}
	return batch
}

func (p *Pipeline) applier(ctx context.Context) {
	defer p.wg.Done()
	t := time.NewTicker(p.opts.ApplyInterval)
	defer t.Stop()
	lastSweep := p.opts.Now()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
		if now := p.opts.Now(); now.Sub(lastSweep) > time.Minute {
			if early := p.visits.sweep(now); early > 0 {
				p.log.Warn("more open visits than a shard keeps: the longest idle were closed early", "closed", early, "limit", p.visits.maxOpen)
			}
			lastSweep = now
		}
		for {
			batch := p.takeQueue()
			if len(batch) == 0 {
				break
			}
			if err := p.applyRecords(ctx, batch); err != nil {
				p.log.Error("apply batch failed; will retry", "err", err, "records", len(batch))
				p.lastErr.Store("event store apply failed")
				// Put the batch back in front and retry on the next tick.
				p.applyMu.Lock()
				p.queue = append(batch, p.queue...)
				p.applyMu.Unlock()
				break
			}
			p.lastErr.Store("")
			p.pending.Add(-int64(len(batch)))
			if err := p.spool.release(p.applied.Load()); err != nil {
				p.log.Warn("remove applied spool segment", "err", err)
			}
			if len(batch) < p.opts.MaxBatch {
				break
			}
		}
	}
}

func (p *Pipeline) applyRecords(ctx context.Context, recs []*record) error {
	if len(recs) == 0 {
		return nil
	}
	// The batch's slices are reused from one batch to the next: one a second holds tens of
	// thousands of large rows. applyRecords runs on one goroutine at a time (the replay in
	// Open, then the applier, then Close once the applier has stopped).
	b := &p.batch
	actions := 0
	for _, r := range recs {
		if r.Action != nil {
			actions++
		}
	}
	if cap(b.Actions) < actions {
		b.Actions = make([]event.Action, 0, actions) // sized once: an Action is large to regrow
	}
	b.Seq = 0
	latest := map[event.VisitID]int{}
	for _, r := range recs {
		if r.Seq > b.Seq {
			b.Seq = r.Seq
		}
		if r.Action != nil {
			b.Actions = append(b.Actions, *r.Action)
		}
		if r.Bot != nil {
			b.Bots = append(b.Bots, *r.Bot)
		}
		if r.Visit != nil {
			if i, ok := latest[r.Visit.ID]; ok {
				b.Visits[i] = *r.Visit
			} else {
				latest[r.Visit.ID] = len(b.Visits)
				b.Visits = append(b.Visits, *r.Visit)
			}
		}
	}
	err := p.opts.Events.Apply(ctx, *b)
	b.Actions, b.Visits, b.Bots = reuse(b.Actions), reuse(b.Visits), reuse(b.Bots)
	if err != nil {
		return err
	}
	p.applied.Store(b.Seq)
	p.stats.Applied.Add(int64(len(recs)))
	p.stats.Batches.Add(1)
	return nil
}

// reuse empties a batch slice for the next batch, dropping what its rows referenced. A slice
// far larger than what it held (after a burst) is let go rather than kept.
func reuse[T any](s []T) []T {
	if cap(s) > 4096 && len(s) < cap(s)/4 {
		return nil
	}
	clear(s)
	return s[:0]
}
