package denials

import "time"

// flush writes the lines that changed, and a lost line when the loss
// counters moved.
func (c *Collector) flush() error {
	c.serialMu.Lock()
	gaps := c.serials.gaps
	c.serialMu.Unlock()
	c.mu.Lock()
	lost := Lost{Gaps: gaps, Dropped: c.dropped.Load(), Overruns: c.overruns.Load(), Garbled: c.garbledN.Load(), Suppressed: c.suppressedN.Load()}
	if c.hasK0 {
		if st, err := GetAuditStatus(); err == nil && st.Lost >= c.kernel0 {
			lost.KernelLost = uint64(st.Lost - c.kernel0)
		}
	}
	var lines []*Denial
	for k := range c.dirty {
		d := *c.entries[k]
		lines = append(lines, &d)
	}
	clear(c.dirty)
	if lost != c.lostOut {
		l := lost
		lines = append(lines, &Denial{Kind: "lost", Lost: &l, SourceName: c.srcName, LastSeen: time.Now().UTC()})
	}
	c.mu.Unlock()
	c.Metrics.setLost(lost)
	if len(lines) == 0 {
		return nil
	}
	if _, err := c.writer.write(lines); err != nil {
		// Keep them dirty: written next time, when the disk may have room.
		c.mu.Lock()
		for _, d := range lines {
			if d.Kind == "denial" {
				c.dirty[d.key()] = true
			}
		}
		c.mu.Unlock()
		return err
	}
	c.mu.Lock()
	c.lostOut = lost
	c.mu.Unlock()
	return nil
}
