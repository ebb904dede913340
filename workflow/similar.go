package workflow

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/helpdeskd/helpdeskd/config"
	"github.com/helpdeskd/helpdeskd/store"
)

// SimilarView explains the repeat decision for a subject (helpdeskd
// similar): the fingerprint it makes, and the incidents of the window it
// would be compared with, most similar first.
type SimilarView struct {
	Subject     string  `json:"subject"`
	Enabled     bool    `json:"enabled"`     // [problems] is configured: repeat detection runs
	Fingerprint string  `json:"fingerprint"` // "" when every word is a stop word, a number or masked
	History     int     `json:"history"`     // incidents whose words weigh the comparison (IDF)
	Similarity  float64 `json:"similarity"`  // [problems] similarity: the same issue from here up
	Threshold   int     `json:"threshold"`   // [problems] threshold
	Window      string  `json:"window"`
	Candidates  int     `json:"candidates"` // incidents of the window before now sharing a word, compared
	Same        int     `json:"same"`       // of them, the same issue (similarity reached)
	// Verdict: what repeat detection would do with a new incident of
	// this subject from someone with no open incident like it: "join"
	// (Problem), "reopen" (a resolved Problem recurs), "open" (a new
	// problem) or "none"; Why says it in words.
	Verdict string            `json:"verdict"`
	Problem string            `json:"problem,omitempty"`
	Why     string            `json:"why"`
	Matches []SimilarIncident `json:"matches"`
}

// SimilarIncident is an earlier incident compared with the subject.
type SimilarIncident struct {
	Key         string  `json:"key"`
	Fingerprint string  `json:"fingerprint"`
	Similarity  float64 `json:"similarity"` // 0..1, rounded to 0.01
	Same        bool    `json:"same_issue"` // Similarity ≥ [problems] similarity
	// Apart: why the two are not the same issue whatever words they
	// share (different floors, different kinds of fault); "" when the
	// similarity decides.
	Apart string `json:"apart,omitempty"`
	// Problem: the problem it is part of now, blank for a problem opened
	// after the time compared at.
	Problem   string    `json:"problem,omitempty"`
	Requester string    `json:"requester"`
	CreatedAt time.Time `json:"created_at"`
}

// Similar makes the fingerprint of subject (and of text, the mail's new
// text, whose first line that is not a greeting counts when the subject
// says too little) as a new incident at now would get it,
// and compares it with the incidents of the window before now as the
// repeat decision does: the same candidates (sharing a word, less those
// "#not-problem" parted from it), the same word weights (counted afresh
// from the whole history), the same similarity. It returns the limit
// most similar, with the problem each belongs to. It changes nothing.
func Similar(ctx context.Context, r store.Reader, cfg *config.Config, now time.Time, subject, text string, limit int) (*SimilarView, error) {
	pc := cfg.Problems
	fp := NewFingerprint(subject, requestLine(text), pc.IgnoreWords)
	v := &SimilarView{Subject: subject, Enabled: pc.Enabled, Fingerprint: fp.String(), Similarity: pc.Similarity, Threshold: pc.Threshold,
		Window: days(pc.Window.Duration), Matches: []SimilarIncident{}}
	if len(fp.Tokens) == 0 {
		v.Verdict, v.Why = "none", "no words to compare (stop words, numbers and ids only): it never counts as a repeat"
		return v, nil
	}
	n, counts, err := r.TokenDF(ctx)
	if err != nil {
		return nil, err
	}
	v.History = n
	df := &DF{N: n, Count: counts}
	cands, err := r.RepeatCandidates(ctx, fp.String(), now.Add(-pc.Window.Duration), candidateLimit)
	if err != nil {
		return nil, err
	}
	problems := map[int64]*store.Problem{}
	var same []SimilarIncident // the same issue, most recent first
	for _, c := range cands {
		if c.CreatedAt.After(now) {
			continue // after --now: not there yet for the subject
		}
		v.Candidates++
		cf := fingerprintOf(c.Fingerprint)
		s := df.Similarity(fp, cf)
		m := SimilarIncident{Key: c.Key, Fingerprint: c.Fingerprint, Similarity: float64(int(s*100+0.5)) / 100,
			Same: s >= pc.Similarity, Apart: Apart(fp, cf), Requester: c.Requester, CreatedAt: c.CreatedAt.UTC()}
		if c.ProblemID != nil {
			pr, ok := problems[*c.ProblemID]
			if !ok {
				if pr, err = r.ProblemByID(ctx, *c.ProblemID); err != nil {
					return nil, err
				}
				problems[*c.ProblemID] = pr
			}
			if !pr.CreatedAt.After(now) {
				m.Problem = pr.Key
			}
		}
		if m.Same {
			same = append(same, m)
		}
		v.Matches = append(v.Matches, m)
	}
	v.Same = len(same)
	sort.SliceStable(same, func(i, j int) bool { return same[i].CreatedAt.After(same[j].CreatedAt) })
	if err := v.decide(ctx, r, df, fp, same, problems); err != nil {
		return nil, err
	}
	sort.SliceStable(v.Matches, func(i, j int) bool {
		a, b := v.Matches[i], v.Matches[j]
		if a.Similarity != b.Similarity {
			return a.Similarity > b.Similarity
		}
		return a.CreatedAt.After(b.CreatedAt)
	})
	if len(v.Matches) > limit {
		v.Matches = v.Matches[:limit]
	}
	return v, nil
}

// decide fills the verdict as the repeat decision reaches it (see
// processing.problemOfOccurrences and attach): the problem of the most
// recent occurrence that has one and that the subject is like (its title
// fingerprint, or more than half of its incidents), open before
// resolved; else a new problem when the occurrences, the new incident
// included, reach the threshold and one of them is in no problem.
func (v *SimilarView) decide(ctx context.Context, r store.Reader, df *DF, fp Fingerprint, same []SimilarIncident, problems map[int64]*store.Problem) error {
	byKey := map[string]*store.Problem{}
	for _, pr := range problems {
		byKey[pr.Key] = pr
	}
	// Incidents "#not-problem" parted from a problem still lead a like
	// report to it (processing.problemOfOccurrences).
	var free []string
	for _, m := range same {
		if m.Problem == "" {
			free = append(free, partedKey(m.Key))
		}
	}
	parted, err := r.ExclusionsFor(ctx, append(free, fp.String()))
	if err != nil {
		return err
	}
	// "#not-problem" pairs of the subject's own words with a problem's
	// keep it out of that problem, as the intake reads them.
	mine := parted[fp.String()]
	var resolved *store.Problem
	for _, m := range same {
		cands := []*store.Problem{byKey[m.Problem]}
		if m.Problem == "" {
			cands = cands[:0]
			for _, k := range partedProblems(parted[partedKey(m.Key)]) {
				pr, err := r.ProblemByKey(ctx, k)
				if err != nil {
					return err
				}
				cands = append(cands, pr)
			}
		}
		for _, pr := range cands {
			if pr == nil || mine[pr.Fingerprint] {
				continue
			}
			if done, err := v.consider(ctx, r, df, fp, m, pr, &resolved); err != nil || done {
				return err
			}
		}
	}
	if resolved != nil {
		v.Verdict, v.Problem = "reopen", resolved.Key
		v.Why = fmt.Sprintf("it would reopen the resolved %s (%s): the issue recurs", resolved.Key, resolved.Title)
		return nil
	}
	return v.decideNew(same)
}

// consider checks one problem of an occurrence as the repeat decision
// does: the subject must be like the problem itself; an open one is the
// verdict (done), a resolved one is kept in *resolved.
func (v *SimilarView) consider(ctx context.Context, r store.Reader, df *DF, fp Fingerprint, m SimilarIncident, pr *store.Problem, resolved **store.Problem) (bool, error) {
	like, err := likeProblem(df, fp, v.Similarity, pr, func() ([]store.Incident, error) { return r.ProblemIncidents(ctx, pr.ID) })
	if err != nil || !like {
		return false, err
	}
	if pr.Status != store.ProblemResolved {
		v.Verdict, v.Problem = "join", pr.Key
		v.Why = fmt.Sprintf("it would join %s (%s), the problem of %s, being like the problem itself", pr.Key, pr.Title, m.Key)
		return true, nil
	}
	if *resolved == nil {
		*resolved = pr
	}
	return false, nil
}

// decideNew is the verdict when no problem takes the subject: a new one
// when the occurrences reach the threshold and one is free, else none.
func (v *SimilarView) decideNew(same []SimilarIncident) error {
	free := 0
	for _, m := range same {
		if m.Problem == "" {
			free++
		}
	}
	switch {
	case len(same)+1 >= v.Threshold && free > 0:
		v.Verdict = "open"
		v.Why = fmt.Sprintf("it would open a new problem: %d earlier occurrence%s of the window and this one reach the threshold of %d", len(same), plural(len(same)), v.Threshold)
	case len(same) > 0 && free == 0:
		v.Verdict = "none"
		v.Why = fmt.Sprintf("no problem: its %d earlier occurrence%s in problems it is not like (no chains)", len(same), map[bool]string{true: " is", false: "s are all"}[len(same) == 1])
	default:
		v.Verdict = "none"
		v.Why = fmt.Sprintf("no problem: %d earlier occurrence%s of the window; a problem needs %d with this one", len(same), plural(len(same)), v.Threshold)
	}
	return nil
}
