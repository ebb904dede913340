package workflow

import (
	"context"
	"sort"
	"time"

	"github.com/helpdeskd/helpdeskd/config"
	"github.com/helpdeskd/helpdeskd/store"
)

// SimilarView explains the repeat decision for a subject (helpdeskd
// similar): the fingerprint it makes, and the incidents of the window it
// would be compared with, most similar first.
type SimilarView struct {
	Subject     string            `json:"subject"`
	Enabled     bool              `json:"enabled"`     // [problems] is configured: repeat detection runs
	Fingerprint string            `json:"fingerprint"` // "" when every word is a stop word, a number or masked
	History     int               `json:"history"`     // incidents whose words weigh the comparison (IDF)
	Similarity  float64           `json:"similarity"`  // [problems] similarity: the same issue from here up
	Threshold   int               `json:"threshold"`   // [problems] threshold
	Window      string            `json:"window"`
	Candidates  int               `json:"candidates"` // incidents of the window before now sharing a word, compared
	Matches     []SimilarIncident `json:"matches"`
}

// SimilarIncident is an earlier incident compared with the subject.
type SimilarIncident struct {
	Key         string    `json:"key"`
	Fingerprint string    `json:"fingerprint"`
	Similarity  float64   `json:"similarity"` // 0..1, rounded to 0.01
	Same        bool      `json:"same_issue"` // Similarity ≥ [problems] similarity
	Problem     string    `json:"problem,omitempty"`
	Requester   string    `json:"requester"`
	CreatedAt   time.Time `json:"created_at"`
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
	problems := map[int64]string{}
	for _, c := range cands {
		if c.CreatedAt.After(now) {
			continue // after --now: not there yet for the subject
		}
		v.Candidates++
		s := df.Similarity(fp, fingerprintOf(c.Fingerprint))
		m := SimilarIncident{Key: c.Key, Fingerprint: c.Fingerprint, Similarity: float64(int(s*100+0.5)) / 100,
			Same: s >= pc.Similarity, Requester: c.Requester, CreatedAt: c.CreatedAt.UTC()}
		if c.ProblemID != nil {
			key, ok := problems[*c.ProblemID]
			if !ok {
				pr, err := r.ProblemByID(ctx, *c.ProblemID)
				if err != nil {
					return nil, err
				}
				key, problems[*c.ProblemID] = pr.Key, pr.Key
			}
			m.Problem = key
		}
		v.Matches = append(v.Matches, m)
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
