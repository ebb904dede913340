package sla

import (
	"sort"

	"github.com/rickar/cal/v2"
	calat "github.com/rickar/cal/v2/at"
	"github.com/rickar/cal/v2/be"
	"github.com/rickar/cal/v2/ca"
	"github.com/rickar/cal/v2/ch"
	"github.com/rickar/cal/v2/cz"
	"github.com/rickar/cal/v2/de"
	"github.com/rickar/cal/v2/dk"
	"github.com/rickar/cal/v2/es"
	"github.com/rickar/cal/v2/fr"
	"github.com/rickar/cal/v2/gb"
	"github.com/rickar/cal/v2/ie"
	"github.com/rickar/cal/v2/it"
	"github.com/rickar/cal/v2/nl"
	"github.com/rickar/cal/v2/no"
	"github.com/rickar/cal/v2/nz"
	"github.com/rickar/cal/v2/pl"
	"github.com/rickar/cal/v2/se"
	"github.com/rickar/cal/v2/us"
)

// countries maps holiday_country codes to the national holiday lists of
// github.com/rickar/cal/v2 (each package's Holidays: for "gb" that is
// England and Wales; regional days such as German Länder holidays are not
// included: list them as explicit dates).
var countries = map[string][]*cal.Holiday{
	"at": calat.Holidays, "be": be.Holidays, "ca": ca.Holidays, "ch": ch.Holidays,
	"cz": cz.Holidays, "de": de.Holidays, "dk": dk.Holidays, "es": es.Holidays,
	"fr": fr.Holidays, "gb": gb.Holidays, "ie": ie.Holidays, "it": it.Holidays,
	"nl": nl.Holidays, "no": no.Holidays, "nz": nz.Holidays, "pl": pl.Holidays,
	"se": se.Holidays, "us": us.Holidays,
}

// Countries lists the accepted holiday_country codes, sorted.
func Countries() []string {
	out := make([]string, 0, len(countries))
	for k := range countries {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
