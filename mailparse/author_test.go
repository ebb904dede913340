package mailparse

import "testing"

// TestAuthorThroughLists: the copy of a message that came through a list
// names the same author as the copy delivered directly.
func TestAuthorThroughLists(t *testing.T) {
	for _, c := range []struct{ name, header, addr, display string }{
		{"direct copy", "From: Alice Example <Alice@Example.com>\r\n", "alice@example.com", "Alice Example"},
		{"list copy keeping From", "From: Alice Example <alice@example.com>\r\nSender: it-staff-bounces@lists.example.org\r\nList-Id: <it-staff.lists.example.org>\r\n", "alice@example.com", "Alice Example"},
		{"mailman dmarc rewrite", "From: Alice Example via it-staff <it-staff@lists.example.org>\r\nReply-To: Alice Example <alice@example.com>\r\nX-Original-From: Alice Example <alice@example.com>\r\nList-Id: <it-staff.lists.example.org>\r\n", "alice@example.com", "Alice Example"},
		{"google groups rewrite", "From: 'Alice Example' via it-staff <it-staff@googlegroups.com>\r\nReply-To: alice@example.com\r\nList-Post: <mailto:it-staff@googlegroups.com>\r\n", "alice@example.com", "Alice Example"},
		{"via in a person's name without list headers", "From: Bob via Phone <bob@example.com>\r\nReply-To: someone@example.net\r\n", "bob@example.com", "Bob via Phone"},
		{"list reply-to the list itself", "From: Carl via staff <staff@lists.example.org>\r\nReply-To: staff@lists.example.org\r\nList-Id: <staff.lists.example.org>\r\n", "staff@lists.example.org", "Carl via staff"},
		{"x-original-from that is not a mailbox", "From: Dora <dora@example.com>\r\nX-Original-From: unknown\r\n", "dora@example.com", "Dora"},
	} {
		m, err := Parse([]byte(c.header+"To: support@example.com\r\nSubject: [it-staff] Printer\r\nMessage-ID: <p1@example.com>\r\n\r\nbroken"), DefaultOptions)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if a := m.Author(); a.Addr != c.addr || a.Name != c.display {
			t.Errorf("%s: Author %+v, want %s %q", c.name, a, c.addr, c.display)
		}
	}
}
