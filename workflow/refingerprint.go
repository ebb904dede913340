package workflow

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sort"
	"strings"
	"time"

	"github.com/helpdeskd/helpdeskd/config"
	"github.com/helpdeskd/helpdeskd/store"
)

// fingerprintVersion names the rules NewFingerprint follows (lexicon,
// stemmer, stop words, masking). It changes whenever the same mail would
// get another fingerprint, so that an installation's stored
// fingerprints are made again under the new rules (see
// RefingerprintIfChanged) instead of no longer matching new ones.
const fingerprintVersion = "2: snowball stemmers, concept lexicon, compounds, floors"

// fingerprintRulesSetting keeps the fingerprint rules the stored
// fingerprints were made under.
const fingerprintRulesSetting = "fingerprint_rules"

// FingerprintRules is a digest of the fingerprint rules in force: the
// version of NewFingerprint and [problems] ignore_words.
func FingerprintRules(cfg *config.Config) string {
	words := append([]string(nil), cfg.Problems.IgnoreWords...)
	for i, w := range words {
		words[i] = strings.ToLower(w)
	}
	sort.Strings(words)
	b, _ := json.Marshal([]any{fingerprintVersion, words})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// refingerprintBatch is how many incidents one transaction fingerprints
// again.
const refingerprintBatch = 500

// RefingerprintIfChanged makes again the fingerprints of the incidents
// of the last [problems] window, of the problems and of the
// "#not-problem" pairs when the fingerprint rules differ from those they
// were made under (an upgrade, or ignore_words edited), and keeps the
// rules' digest. It returns how many incidents' fingerprints changed (0
// when the rules did not). An interrupted run leaves the digest
// unchanged and is done again, whole, at the next start; making a
// fingerprint twice gives the same result.
func (e *Engine) RefingerprintIfChanged(ctx context.Context) (int, error) {
	e.cfgMu.RLock()
	defer e.cfgMu.RUnlock()
	if !e.Cfg.Problems.Enabled {
		return 0, nil
	}
	rules := FingerprintRules(e.Cfg)
	kept, err := e.Store.Setting(ctx, fingerprintRulesSetting)
	if err != nil || kept == rules {
		return 0, err
	}
	n, err := e.refingerprint(ctx)
	if err != nil {
		return n, err
	}
	return n, e.Store.SetSetting(ctx, fingerprintRulesSetting, rules)
}

func (e *Engine) refingerprint(ctx context.Context) (int, error) {
	pc := e.Cfg.Problems
	since := e.Now().Add(-pc.Window.Duration)
	renamed := map[string]string{}
	total := 0
	var after int64
	for {
		n, last, more, err := e.refingerprintBatch(ctx, since, after, renamed)
		total += n
		if err != nil || !more {
			if err != nil {
				return total, err
			}
			break
		}
		after = last
	}
	tx, err := e.Store.Begin(ctx)
	if err != nil {
		return total, err
	}
	defer tx.Rollback()
	// Problems older than the window keep a fingerprint no incident of
	// the window had: theirs is made again from their title.
	probs, err := tx.ListProblems(ctx)
	if err != nil {
		return total, err
	}
	for _, pr := range probs {
		if _, ok := renamed[pr.Fingerprint]; ok || pr.Fingerprint == "" {
			continue
		}
		if fp := NewFingerprint(pr.Title, "", pc.IgnoreWords); len(fp.Tokens) >= 2 {
			renamed[pr.Fingerprint] = fp.String()
		}
	}
	if _, err := tx.RenameFingerprints(ctx, renamed); err != nil {
		return total, err
	}
	if err := tx.Commit(); err != nil {
		return total, err
	}
	// The word counts are of the old words: count again at the next
	// decision.
	e.df.set(0, nil, e.Now().Add(-3*dfRefresh))
	return total, nil
}

// refingerprintBatch makes again the fingerprints of up to
// refingerprintBatch incidents after id after, in one transaction, and
// notes each old fingerprint's new form in renamed.
func (e *Engine) refingerprintBatch(ctx context.Context, since time.Time, after int64, renamed map[string]string) (n int, last int64, more bool, err error) {
	tx, err := e.Store.Begin(ctx)
	if err != nil {
		return 0, after, false, err
	}
	defer tx.Rollback()
	srcs, err := tx.FingerprintSources(ctx, since, after, refingerprintBatch)
	if err != nil {
		return 0, after, false, err
	}
	var changed []*store.Incident
	for _, s := range srcs {
		last = s.ID
		fp := NewFingerprint(s.Subject, requestLine(s.Text), e.Cfg.Problems.IgnoreWords).String()
		if fp == s.Fingerprint || fp == "" {
			continue
		}
		changed = append(changed, &store.Incident{ID: s.ID, CreatedAt: s.CreatedAt, Fingerprint: fp})
		if _, ok := renamed[s.Fingerprint]; !ok {
			renamed[s.Fingerprint] = fp
		}
	}
	if err := tx.ReplaceFingerprints(ctx, changed); err != nil {
		return 0, after, false, err
	}
	if err := tx.Commit(); err != nil {
		return 0, after, false, err
	}
	return len(changed), last, len(srcs) == refingerprintBatch, nil
}
