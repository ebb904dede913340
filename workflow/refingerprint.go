package workflow

import (
	"context"
	"sort"
	"strings"

	"github.com/helpdeskd/helpdeskd/config"
	"github.com/helpdeskd/helpdeskd/store"
)

// fingerprintVersion names the rules NewFingerprint follows: a version
// for what the code does (stemmers, compounds, places) and a digest of
// its data (stop words, the lexicon, the masking patterns), so that any
// change that would give the same mail another fingerprint makes an
// installation's stored fingerprints again under the new rules (see
// RefingerprintIfChanged) instead of leaving them unlike new ones.
var fingerprintVersion = "4: snowball stemmers, concept lexicon, compounds, floors, drives, addresses, number suffixes; " + fingerprintData()

// fingerprintData is a digest of the data NewFingerprint follows.
func fingerprintData() string {
	return rulesDigest(sortedSet(keysOf(stopWords)), concepts, plainWords, faultFamilies,
		[]string{emailRe.String(), ipRe.String(), hostRe.String(), dateRe.String(), tagRe.String(), floorRe.String(), driveRe.String(), salutationRe.String(), deviceSignatureRe.String(), pleasantryRe.String()}, phraseData(), sortedSet(keysOf(numberSuffixes)),
		maxWords, maxText, minCompound, maxCompound, maxParts)[:16]
}

func phraseData() []string {
	var out []string
	for _, p := range phrases {
		out = append(out, p.re.String(), p.word)
	}
	return out
}

func keysOf(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

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
	return rulesDigest(fingerprintVersion, words)
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

// refingerprint works in three steps, so that an interruption loses
// nothing: it reads the window's incidents and makes their new
// fingerprints (changing nothing); renames the problems' fingerprints and
// the "#not-problem" pairs in one transaction; then writes the
// incidents' new fingerprints and word index in transactions of
// refingerprintBatch. Stopped after the rename, the next run finds the
// incidents not yet written still in their old form and maps them again;
// the pairs renamed already are left as they are.
func (e *Engine) refingerprint(ctx context.Context) (int, error) {
	pc := e.Cfg.Problems
	since := e.Now().Add(-pc.Window.Duration)
	votes := map[string]map[string]int{} // old fingerprint → its new forms → incidents
	current := map[string]bool{}         // every fingerprint the window's incidents now get
	var changed []*store.Incident
	var after int64
	for {
		srcs, err := e.Store.FingerprintSources(ctx, since, after, refingerprintBatch)
		if err != nil {
			return 0, err
		}
		for _, s := range srcs {
			after = s.ID
			fp := NewFingerprint(s.Subject, requestLine(s.Text), pc.IgnoreWords).String()
			if fp == "" {
				continue
			}
			current[fp] = true
			if fp == s.Fingerprint {
				continue
			}
			changed = append(changed, &store.Incident{ID: s.ID, CreatedAt: s.CreatedAt, Fingerprint: fp})
			if votes[s.Fingerprint] == nil {
				votes[s.Fingerprint] = map[string]int{}
			}
			votes[s.Fingerprint][fp]++
		}
		if len(srcs) < refingerprintBatch {
			break
		}
	}
	// An old fingerprint becomes the new form most of its incidents
	// get; one that is itself a fingerprint of the window under the new
	// rules stays (after an interrupted run, or where the rules merely
	// moved words around, renaming it would rename twice).
	renamed := map[string]string{}
	for old, forms := range votes {
		if current[old] {
			continue
		}
		best, n := "", 0
		for fp, c := range forms {
			if c > n || (c == n && fp < best) {
				best, n = fp, c
			}
		}
		renamed[old] = best
	}
	if err := e.renameFingerprints(ctx, renamed, current); err != nil {
		return 0, err
	}
	for i := 0; i < len(changed); i += refingerprintBatch {
		if err := e.writeFingerprints(ctx, changed[i:min(i+refingerprintBatch, len(changed))]); err != nil {
			return i, err
		}
	}
	// The word counts are of the old words: count again at the next
	// decision.
	e.df.set(0, nil, e.Now().Add(-3*dfRefresh))
	return len(changed), nil
}

// renameFingerprints gives the problems their new fingerprints and
// renames the "#not-problem" pairs by renamed, in one transaction.
func (e *Engine) renameFingerprints(ctx context.Context, renamed map[string]string, current map[string]bool) error {
	tx, err := e.Store.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	probs, err := tx.ListProblems(ctx)
	if err != nil {
		return err
	}
	// A problem takes its title's fingerprint (the title is the subject
	// its fingerprint was made of) unless the subject says too little
	// for that, then the renaming of its incidents'. One whose
	// fingerprint is a current one keeps it.
	var problems []store.ProblemFingerprint
	for _, pr := range probs {
		if pr.Fingerprint == "" || current[pr.Fingerprint] {
			continue
		}
		to, ok := renamed[pr.Fingerprint]
		if fp := NewFingerprint(pr.Title, "", e.Cfg.Problems.IgnoreWords); len(fp.Tokens) >= 2 {
			to, ok = fp.String(), true
		}
		if ok && to != pr.Fingerprint {
			problems = append(problems, store.ProblemFingerprint{ID: pr.ID, Fingerprint: to})
			if _, seen := renamed[pr.Fingerprint]; !seen {
				renamed[pr.Fingerprint] = to // its pairs, for a problem older than the window
			}
		}
	}
	if err := tx.SetProblemFingerprints(ctx, problems); err != nil {
		return err
	}
	if _, err := tx.RenameFingerprints(ctx, renamed); err != nil {
		return err
	}
	return tx.Commit()
}

// writeFingerprints stores incidents' new fingerprints and word index in
// one transaction.
func (e *Engine) writeFingerprints(ctx context.Context, incs []*store.Incident) error {
	tx, err := e.Store.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := tx.ReplaceFingerprints(ctx, incs); err != nil {
		return err
	}
	return tx.Commit()
}
