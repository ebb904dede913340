package workflow

import "testing"

// TestFingerprintVersionFollowsTheRules: a stop word or a lexicon word
// more gives another fingerprint version, so the stored fingerprints are
// made again (no hand-kept version to forget).
func TestFingerprintVersionFollowsTheRules(t *testing.T) {
	digest := fingerprintData
	if fingerprintVersion[len(fingerprintVersion)-16:] != digest() {
		t.Fatalf("version %q does not end in the rules' digest %s", fingerprintVersion, digest())
	}
	before := digest()
	stopWords["helpdeskdtestword"] = true
	withStop := digest()
	delete(stopWords, "helpdeskdtestword")
	concepts["printer"] += " helpdeskdtestword"
	withConcept := digest()
	concepts["printer"] = concepts["printer"][:len(concepts["printer"])-len(" helpdeskdtestword")]
	if withStop == before || withConcept == before || digest() != before {
		t.Errorf("digests %s / %s / %s / %s: want the rules' changes seen and undone", before, withStop, withConcept, digest())
	}
}

// TestStopWordsAreNotLexiconWords: a word is either a stop word or a
// word of the lexicon, never both (the Spanish "son", "are", once hid
// the French "son", sound).
func TestStopWordsAreNotLexiconWords(t *testing.T) {
	for w := range stopWords {
		if c, ok := synonyms[w]; ok {
			t.Errorf("%q is a stop word and a variant of %q", w, c)
		}
	}
}
