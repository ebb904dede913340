package workflow_test

import (
	"reflect"
	"testing"

	"github.com/helpdeskd/helpdeskd/config"
	"github.com/helpdeskd/helpdeskd/workflow"
)

// TestRASCI: each route's category names who does the work (R), whose
// chain gets its escalations (A), the in-house team that supports a
// provider (S), the problem contact, else level 1 of the chain (C), and
// the route's informed (I);
// what no route matches goes to the default assignee.
func TestRASCI(t *testing.T) {
	cfg, err := config.Parse("t.toml", []byte("[helpdesk]\naddress = \"support@example.com\"\n"+slaRouting+`
[[route]]
name = "printing"
keywords = ["printer"]
assign = "acme"
category = "printers"
informed = ["office.manager@example.com"]
`))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Providers[0].ProblemContact = "problems@acme-it.example"
	got := workflow.RASCI(cfg)
	want := []workflow.RASCIRow{
		{Category: "printers", Route: "printing", Responsible: "acme", SLA: "acme-contract", Accountable: []string{"account.manager@acme-it.example"},
			Supporting: []string{"it"}, Consulted: []string{"problems@acme-it.example"}, Informed: []string{"office.manager@example.com"}},
		{Category: "(anything else)", Responsible: "it", SLA: "standard",
			Accountable: []string{"it-lead@example.com", "it-manager@example.com", "director@example.com"},
			Supporting:  []string{}, Consulted: []string{"it-lead@example.com"}, Informed: []string{}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("RASCI:\n got %+v\nwant %+v", got, want)
	}
}
