package workflow

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"reflect"

	"github.com/helpdeskd/helpdeskd/config"
)

// Reload replaces the helpdesk's rules while the engine runs (SIGHUP):
// teams, providers, routes, routing, commands, problems, calendars, SLA
// policies, priority rules, escalation, and the [helpdesk] name, time
// zone, domains, limits and default priority. What the running daemon is
// connected to or named by (the helpdesk address and key prefix, the
// database, IMAP, SMTP, intake limits, metrics) keeps its old value
// until a restart; restart lists the sections that differ. A batch or a
// tick under way finishes on the old rules first.
func (e *Engine) Reload(next *config.Config) (restart []string) {
	e.cfgMu.Lock()
	defer e.cfgMu.Unlock()
	cur := e.Cfg
	merged := *next
	keep := []struct {
		name string
		cur  any
		set  func()
	}{
		{"[helpdesk] address", cur.Helpdesk.Address, func() { merged.Helpdesk.Address = cur.Helpdesk.Address }},
		{"[helpdesk] key_prefix", cur.Helpdesk.KeyPrefix, func() { merged.Helpdesk.KeyPrefix = cur.Helpdesk.KeyPrefix }},
		{"[database]", cur.Database, func() { merged.Database = cur.Database }},
		{"[imap]", cur.IMAP, func() { merged.IMAP = cur.IMAP }},
		{"[smtp]", cur.SMTP, func() { merged.SMTP = cur.SMTP }},
		{"[intake]", cur.Intake, func() { merged.Intake = cur.Intake }},
		{"[metrics]", cur.Metrics, func() { merged.Metrics = cur.Metrics }},
	}
	nextVals := []any{next.Helpdesk.Address, next.Helpdesk.KeyPrefix, next.Database, next.IMAP, next.SMTP, next.Intake, next.Metrics}
	for i, k := range keep {
		if !reflect.DeepEqual(k.cur, nextVals[i]) {
			restart = append(restart, k.name)
		}
		k.set()
	}
	merged.Path = cur.Path
	e.Cfg = &merged
	return restart
}

// clockRulesSetting keeps the fingerprint of the clock rules in force.
const clockRulesSetting = "clock_rules"

// ClockRules is a fingerprint of what the open incidents' due times are
// derived from: calendars, policies, escalation rules, teams and
// providers (their policies and chains).
func ClockRules(cfg *config.Config) string {
	return rulesDigest(cfg.Helpdesk.Timezone, cfg.Calendars, cfg.SLAs, cfg.Escalation.WarnAt, cfg.Escalation.Levels,
		cfg.Escalation.Repeat, cfg.Teams, cfg.Providers)
}

// rulesDigest is the SHA-256 of the JSON of parts, in hex: what a set of
// rules is kept as in the settings table to notice that it changed ("" if
// a part cannot be written as JSON).
func rulesDigest(parts ...any) string {
	b, err := json.Marshal(parts)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// RefreshClocksIfChanged derives the open incidents' clocks again when
// the clock rules differ from those they were last derived under (a
// configuration edited while no daemon ran, before a restart or a "run
// --once"), and keeps the rules' fingerprint. It returns how many it
// refreshed (0 when nothing changed).
func (e *Engine) RefreshClocksIfChanged(ctx context.Context) (int, error) {
	fp := ClockRules(e.Cfg)
	kept, err := e.Store.Setting(ctx, clockRulesSetting)
	if err != nil || kept == fp {
		return 0, err
	}
	n := 0
	if kept != "" {
		if n, err = e.RefreshClocks(ctx); err != nil {
			return n, err
		}
	}
	return n, e.Store.SetSetting(ctx, clockRulesSetting, fp)
}

// RefreshClocks derives again the clocks of every open incident that has
// them, under the configuration now in force (after Reload): due times
// follow a changed calendar, holiday or policy; resolved and closed
// incidents keep their figures as measured. It works through the open
// incidents in transactions of a few hundred, and returns how many it
// refreshed.
func (e *Engine) RefreshClocks(ctx context.Context) (int, error) {
	e.cfgMu.RLock()
	defer e.cfgMu.RUnlock()
	if promise(e.Cfg) == nil {
		return 0, nil
	}
	const batch = 500
	var after int64
	total := 0
	for {
		n, last, err := e.refreshBatch(ctx, after, batch)
		total += n
		if err != nil || n < batch {
			return total, err
		}
		after = last
	}
}

func (e *Engine) refreshBatch(ctx context.Context, after int64, limit int) (n int, last int64, err error) {
	tx, err := e.Store.Begin(ctx)
	if err != nil {
		return 0, after, err
	}
	defer tx.Rollback()
	now := e.Now().UTC()
	incs, err := tx.OpenClockIncidents(ctx, after, limit)
	if err != nil || len(incs) == 0 {
		return 0, after, err
	}
	ids := make([]int64, len(incs))
	for i, inc := range incs {
		ids[i] = inc.ID
	}
	evs, err := tx.ClockEvents(ctx, ids)
	if err != nil {
		return 0, after, err
	}
	u := newUnit(e, tx, now)
	for _, inc := range incs {
		st, err := deriveAt(e.Cfg, inc, evs[inc.ID], now)
		if err != nil {
			e.Log.Error("clock not derived", "incident", inc.Key, "error", err)
			continue
		}
		u.applyClocks(inc, st, true)
		u.dirty[inc] = true
		last = inc.ID
	}
	if err := u.flush(ctx); err != nil {
		return 0, after, err
	}
	return len(incs), incs[len(incs)-1].ID, tx.Commit()
}
