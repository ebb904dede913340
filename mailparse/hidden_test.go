package mailparse

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// hiddenHTMLMail is an HTML-only mail from staff whose body is body.
func hiddenHTMLMail(body string) []byte {
	return []byte("From: alice.admin@example.com\r\nSubject: Re: [HD-1] VPN\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" +
		"<html><head>" + body + "<p>Looking into it.</p></body></html>\r\n")
}

// TestHiddenHTMLFormsAreNotText: every way the red team hid a command in
// an HTML-only mail (CSS comments and escapes, style sheet rules, text in
// the background colour, tiny fonts, off-screen positions, clipping,
// zero scale, collapsed boxes) leaves the command out of Text and
// NewText, and the visible text in.
func TestHiddenHTMLFormsAreNotText(t *testing.T) {
	const cmd = "#category network"
	for _, c := range []struct{ name, body string }{
		{"css comment", `</head><body><div style='display:/**/none'>` + cmd + `</div>`},
		{"css comment around property", `</head><body><div style='/*x*/display/*y*/:/*z*/none'>` + cmd + `</div>`},
		{"css escape hex", `</head><body><div style='display:\6e one'>` + cmd + `</div>`},
		{"css escape hex six digits", `</head><body><div style='display:\00006eone'>` + cmd + `</div>`},
		{"css escape char", `</head><body><div style='d\isplay:\none'>` + cmd + `</div>`},
		{"style sheet class", `<style>.x{display:none}</style></head><body><div class=x>` + cmd + `</div>`},
		{"style sheet id", `<style>#h{display:none}</style></head><body><div id=h>` + cmd + `</div>`},
		{"style sheet tag", `<style>blockquote { visibility : hidden }</style></head><body><blockquote>` + cmd + `</blockquote>`},
		{"style sheet tag.class", `<style>div.x{display:none}</style></head><body><div class="a x">` + cmd + `</div>`},
		{"style sheet comma list", `<style>p.y, .x, #z{display:none}</style></head><body><span class=x>` + cmd + `</span>`},
		{"style sheet in body", `</head><body><style>.x{font-size:0}</style><span class=x>` + cmd + `</span>`},
		{"style sheet with comment and escape", `<style>/* hi */ .x{display:\6e one}</style></head><body><span class=x>` + cmd + `</span>`},
		{"style sheet in @media screen", `<style>@media screen{.x{display:none}}</style></head><body><span class=x>` + cmd + `</span>`},
		{"style sheet colour on background", `<style>.x{color:#fff}.y{background:#fff}</style></head><body><div class=y><span class=x>` + cmd + `</span></div>`},
		{"white on white", `</head><body><div style="color:#ffffff;background:#ffffff">` + cmd + `</div>`},
		{"white on white short", `</head><body><div style="color:#fff;background-color:white">` + cmd + `</div>`},
		{"rgb on same", `</head><body><div style="background:rgb(10, 20, 30)"><span style="color:rgb(10,20,30)">` + cmd + `</span></div>`},
		{"white on default background", `</head><body><span style="color:white">` + cmd + `</span>`},
		{"font colour on bgcolor", `</head><body><table bgcolor="#eeeeee"><tr><td><font color="#eeeeee">` + cmd + `</font></td></tr></table>`},
		{"font-size 1px", `</head><body><span style="font-size:1px">` + cmd + `</span>`},
		{"font-size 0.5px", `</head><body><span style="font-size:0.5px">` + cmd + `</span>`},
		{"font-size 1pt", `</head><body><span style="font-size:1pt">` + cmd + `</span>`},
		{"font-size tiny em", `</head><body><span style="font-size:0.01em">` + cmd + `</span>`},
		{"font-size tiny percent", `</head><body><span style="font-size:1%">` + cmd + `</span>`},
		{"off-screen left", `</head><body><div style="position:absolute;left:-9999px">` + cmd + `</div>`},
		{"off-screen top", `</head><body><div style="position:absolute;top:-600px">` + cmd + `</div>`},
		{"clip rect", `</head><body><div style="position:absolute;clip:rect(0 0 0 0)">` + cmd + `</div>`},
		{"clip rect commas", `</head><body><div style="position:absolute;clip:rect(1px,1px,1px,1px)">` + cmd + `</div>`},
		{"clip-path inset", `</head><body><div style="clip-path: inset(100%)">` + cmd + `</div>`},
		{"transform scale", `</head><body><div style="transform:scale(0)">` + cmd + `</div>`},
		{"text-indent", `</head><body><div style="text-indent:-9999px;overflow:hidden">` + cmd + `</div>`},
		{"max-height 0", `</head><body><div style="max-height:0">` + cmd + `</div>`},
		{"zero box", `</head><body><div style="width:0;height:0;overflow:hidden">` + cmd + `</div>`},
		{"zero width", `</head><body><div style="width:0px;overflow:hidden">` + cmd + `</div>`},
	} {
		m, err := Parse(hiddenHTMLMail(c.body), DefaultOptions)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !m.HTMLOnly || strings.Contains(m.Text, "#category") || strings.Contains(m.NewText, "#category") || !strings.Contains(m.NewText, "Looking into it.") {
			t.Errorf("%s: Text %q, NewText %q", c.name, m.Text, m.NewText)
		}
	}
}

// TestVisibleHTMLStaysText: styles that look like hiding but are not.
func TestVisibleHTMLStaysText(t *testing.T) {
	const cmd = "#category network"
	for _, c := range []struct{ name, body string }{
		{"plain colours", `</head><body><div style="color:#333;background:#fff;font-size:12px">` + cmd + `</div>`},
		{"white on dark", `</head><body><div style="background-color:#003366"><span style="color:#ffffff">` + cmd + `</span></div>`},
		{"white on dark bgcolor", `</head><body><table bgcolor="#000000"><tr><td><font color="white">` + cmd + `</font></td></tr></table>`},
		{"positioned on screen", `</head><body><div style="position:absolute;left:10px;top:-20px">` + cmd + `</div>`},
		{"small but readable", `</head><body><span style="font-size:9px">` + cmd + `</span>`},
		{"rule for another class", `<style>.y{display:none}</style></head><body><div class=x>` + cmd + `</div>`},
		{"conditional media rule", `<style>@media only screen and (max-width:600px){.x{display:none}}</style></head><body><div class=x>` + cmd + `</div>`},
		{"sheet shows, inline hides nothing", `<style>.x{display:block}</style></head><body><div class=x style="color:red">` + cmd + `</div>`},
		{"comment inside a value", `</head><body><div style="display:/*none*/block">` + cmd + `</div>`},
		{"scale not zero", `</head><body><div style="transform:scale(1.5)">` + cmd + `</div>`},
		{"clip with area", `</head><body><div style="position:absolute;clip:rect(0px,60px,200px,0px)">` + cmd + `</div>`},
	} {
		m, err := Parse(hiddenHTMLMail(c.body), DefaultOptions)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !strings.Contains(m.NewText, "#category network") {
			t.Errorf("%s: visible text dropped: Text %q", c.name, m.Text)
		}
	}
}

func TestCSSUnescape(t *testing.T) {
	for in, want := range map[string]string{
		`\6e one`:    "none",
		`\6E\6f ne`:  "none",
		`n\one`:      "none",
		`\0`:         "\uFFFD",
		`\110000x`:   "\uFFFDx",
		`a\`:         `a\`,
		`\"q\"`:      `"q"`,
		"x\\\ny":     "xy",
		`\000041BC`:  "ABC",
		`\D800 done`: "\uFFFDdone",
	} {
		if got := cssUnescape(in); got != want {
			t.Errorf("cssUnescape(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzHTMLToText: any HTML, style sheets and styles included, converts
// without a panic and keeps no text the sheet or a style hides by
// display:none.
func FuzzHTMLToText(f *testing.F) {
	f.Add(`<style>.x{display:none}</style><div class=x>#h</div>`, `display:\6e one`)
	f.Add(`<style>@media screen{.x{color:#fff}}</style><p class="x y">#h</p>`, `clip:rect(0 0 0 0)`)
	f.Add(`<style>/* }{ */ a.b, #c {font-size:1px</style>`, `background:rgb(1 2 3 / 0);color:rgba(1,2,3,0)`)
	f.Fuzz(func(t *testing.T, page, style string) {
		if _, err := htmlToText(page); err != nil {
			t.Skip()
		}
		hiddenStyleOn(style, rgb{255, 255, 255, true})
		out, err := htmlToText(`<div style="display:none">SECRET-LINE</div><style>` + page + `</style>`)
		if err == nil && strings.Contains(out, "SECRET-LINE") {
			t.Fatalf("hidden line kept: %q", out)
		}
	})
}

// TestStyleSheetsAreBounded: many rules on many elements, and deeply
// nested blocks, cost time linear in the size of the mail.
func TestStyleSheetsAreBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("From: a@example.org\r\nSubject: s\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><head><style>")
	for i := 0; i < 3000; i++ {
		fmt.Fprintf(&b, ".c%d, div.c%d, #i%d { color: red; font-size: 12px }\n", i%7, i, i)
	}
	b.WriteString(strings.Repeat("@media screen{", 20000) + ".x{display:none}" + strings.Repeat("}", 20000))
	b.WriteString("</style></head><body>")
	for i := 0; i < 20000; i++ {
		fmt.Fprintf(&b, `<div class="c1 c2 c3 c4 c5 c6 x%d" id="i%d">line %d</div>`, i, i, i)
	}
	b.WriteString("<p>Looking into it.</p></body></html>\r\n")
	raw := []byte(b.String())
	start := time.Now()
	m, err := Parse(raw, DefaultOptions)
	if err != nil {
		t.Fatal(err)
	}
	if took, limit := time.Since(start), parseTimeLimit(raw); took > limit {
		t.Fatalf("%d bytes took %v, more than %v", len(raw), took, limit)
	}
	if !strings.Contains(m.Text, "Looking into it.") || !strings.Contains(m.Text, "line 19999") {
		t.Errorf("text lost: %d bytes", len(m.Text))
	}
}

// TestOutlookStyleSheetsAndImportant: Outlook wraps every style sheet in
// "<!-- … -->", and a sheet's "!important" beats the element's own style:
// hidden either way.
func TestOutlookStyleSheetsAndImportant(t *testing.T) {
	for name, body := range map[string]string{
		"sheet in an HTML comment":  `<style><!-- .x{display:none} --></style><div>thanks</div><div class="x">#priority P5</div>`,
		"important beats the style": `<style>.x{display:none !important}</style><div>thanks</div><div class="x" style="display:block">#priority P5</div>`,
		"important with a space":    `<style>.x{display:none ! important}</style><div>thanks</div><div class="x" style="display:block">#priority P5</div>`,
		"important white on white":  `<style>div.x{color:#fff !important}</style><div>thanks</div><div class="x" style="color:#000">#priority P5</div>`,
	} {
		raw := "From: a@example.com\r\nSubject: x\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body>" + body + "</body></html>\r\n"
		m, err := Parse([]byte(raw), DefaultOptions)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(m.Text, "#priority") || !strings.Contains(m.Text, "thanks") {
			t.Errorf("%s: text %q", name, m.Text)
		}
	}
}
