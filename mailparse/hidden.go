package mailparse

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Hidden HTML: what a mail client does not show is dropped before an
// HTML-only mail is read, so a hidden line can be neither a command nor
// relayed text. CSS is read as CSS 2.1 and CSS Syntax Level 3 describe it
// (comments, escapes §4.3.7), but only as far as hiding goes: declarations
// of the style attribute and simple rules of <style> blocks.

// Bounds of the style sheet evaluation: at most maxSheetBytes of <style>
// text and maxSheetRules rules are read; at most maxElementClasses
// classes of one element are looked up, and at most maxElementRules
// matching rules applied to it.
const (
	maxSheetBytes     = 64 << 10
	maxSheetRules     = 512
	maxElementClasses = 32
	maxElementRules   = 64
)

// offScreen is how far (in px) left or up an element must be moved to
// count as off the screen.
const offScreen = -500

// styleRule is one compound selector of a <style> rule: a tag, ids and
// classes that must all match ("div.x", ".x", "#h", "p"), with the
// declarations of its rule.
type styleRule struct {
	tag     string
	ids     []string
	classes []string
	decls   []cssDecl
}

// cssDecl is one declaration, property and value in lower case, comments
// removed, escapes decoded and "!important" dropped.
type cssDecl struct {
	prop, val string
	important bool // "!important": a sheet's beats the element's own style
}

// hidingProps are the properties hiddenDecls reads; other declarations
// are not kept.
var hidingProps = map[string]bool{
	"display": true, "visibility": true, "mso-hide": true, "opacity": true, "font-size": true,
	"color": true, "background": true, "background-color": true, "position": true, "left": true,
	"top": true, "margin-left": true, "margin-top": true, "clip": true, "clip-path": true,
	"transform": true, "overflow": true, "overflow-x": true, "overflow-y": true, "text-indent": true,
	"max-height": true, "height": true, "line-height": true, "width": true, "max-width": true,
}

// parseDecls reads CSS declarations ("a: b; c: d", CSS 2.1 §4.1.8) after
// removing comments and decoding escapes (CSS Syntax §4.3.7); only the
// properties of hidingProps are kept.
var importantRe = regexp.MustCompile(`!\s*important\s*$`)

func parseDecls(s string) []cssDecl {
	var out []cssDecl
	for _, decl := range strings.Split(cssUnescape(stripCSSComments(s)), ";") {
		prop, val, ok := strings.Cut(decl, ":")
		if !ok {
			continue
		}
		prop = strings.ToLower(strings.TrimSpace(prop))
		if !hidingProps[prop] {
			continue
		}
		val = strings.ToLower(strings.TrimSpace(val))
		important := false
		if loc := importantRe.FindStringIndex(val); loc != nil {
			val, important = strings.TrimSpace(val[:loc[0]]), true
		}
		out = append(out, cssDecl{prop, val, important})
	}
	return out
}

// styleSheet indexes the rules by their tag, "#id" or ".class" (the
// first class), so each element looks up only the rules that may match.
type styleSheet map[string][]*styleRule

// readStyleSheets collects the simple rules of the document's <style>
// blocks: selectors that are a tag, a class, an id, or a compound of them
// ("div.x", "p#h"), in comma lists. Rules with other selectors
// (descendants, attributes, pseudo-classes) and rules inside an @media
// block with a condition other than a media type are not evaluated.
func readStyleSheets(doc *html.Node) styleSheet {
	var b strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if b.Len() >= maxSheetBytes {
			return
		}
		if n.Type == html.ElementNode && n.DataAtom == atom.Style {
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				if c.Type == html.TextNode {
					b.WriteString(c.Data)
					b.WriteByte('\n')
				}
			}
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if b.Len() == 0 {
		return nil
	}
	text := b.String()
	if len(text) > maxSheetBytes {
		text = text[:maxSheetBytes]
	}
	sheet := styleSheet{}
	rules := 0
	// "<!--" and "-->" around a style sheet (as Outlook writes it) are
	// no part of its rules (CSS Syntax §5.4.1: CDO and CDC are skipped).
	text = strings.NewReplacer("<!--", " ", "-->", " ").Replace(text)
	scanRules(stripCSSComments(text), func(selectors, body string) bool {
		decls := parseDecls(body)
		if len(decls) == 0 {
			return true
		}
		for _, sel := range strings.Split(selectors, ",") {
			r := parseSelector(cssUnescape(strings.ToLower(strings.TrimSpace(sel))))
			if r == nil {
				continue
			}
			r.decls = decls
			key := r.tag
			switch {
			case len(r.classes) > 0:
				key = "." + r.classes[0]
			case len(r.ids) > 0:
				key = "#" + r.ids[0]
			}
			sheet[key] = append(sheet[key], r)
			rules++
			if rules >= maxSheetRules {
				return false
			}
		}
		return true
	})
	return sheet
}

// scanRules calls fn with the selector and declaration block of each
// qualified rule of sheet (comments already removed), in order, also
// inside @media blocks whose condition is only a media type ("screen",
// "all"); it stops when fn returns false.
func scanRules(sheet string, fn func(selectors, decls string) bool) {
	type block struct {
		prelude string
		skip    bool // a conditional @media, @supports, @font-face …: its rules do not always apply
		nested  bool
	}
	var stack []block
	start, skipped := 0, 0 // skipped: how many blocks of the stack are skipped
	for i := 0; i < len(sheet); i++ {
		switch sheet[i] {
		case '{':
			prelude := strings.TrimSpace(sheet[start:i])
			if len(stack) > 0 {
				stack[len(stack)-1].nested = true
			}
			b := block{prelude: prelude, skip: strings.HasPrefix(prelude, "@") && !plainMedia(prelude)}
			if b.skip {
				skipped++
			}
			stack = append(stack, b)
			start = i + 1
		case '}':
			if len(stack) == 0 {
				start = i + 1
				continue
			}
			top := stack[len(stack)-1]
			body := sheet[start:i]
			if !top.nested && !strings.HasPrefix(top.prelude, "@") && skipped == 0 {
				if !fn(top.prelude, body) {
					return
				}
			}
			if top.skip {
				skipped--
			}
			stack = stack[:len(stack)-1]
			start = i + 1
		case ';':
			if len(stack) == 0 {
				start = i + 1 // "@import …;", "@charset …;"
			}
		}
	}
}

// plainMedia reports whether an @-rule prelude is "@media" with only
// media types ("@media screen", "@media all, print").
func plainMedia(prelude string) bool {
	p := strings.ToLower(prelude)
	rest, ok := strings.CutPrefix(p, "@media")
	if !ok {
		return false
	}
	for _, t := range strings.Split(rest, ",") {
		switch strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(t), "only ")) {
		case "", "screen", "all":
		default:
			return false
		}
	}
	return true
}

// parseSelector reads a compound selector of a tag, classes and ids
// ("div.x", ".x.y", "#h"), or returns nil.
func parseSelector(sel string) *styleRule {
	if sel == "" {
		return nil
	}
	r := &styleRule{}
	i := 0
	for i < len(sel) && isIdentByte(sel[i]) {
		i++
	}
	r.tag = sel[:i]
	for i < len(sel) {
		kind := sel[i]
		if kind != '.' && kind != '#' {
			return nil
		}
		j := i + 1
		for j < len(sel) && isIdentByte(sel[j]) {
			j++
		}
		if j == i+1 {
			return nil
		}
		if kind == '.' {
			r.classes = append(r.classes, sel[i+1:j])
		} else {
			r.ids = append(r.ids, sel[i+1:j])
		}
		i = j
	}
	if r.tag == "" && len(r.classes) == 0 && len(r.ids) == 0 {
		return nil
	}
	return r
}

func isIdentByte(c byte) bool {
	return c == '-' || c == '_' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c >= 0x80
}

// matches reports whether the element n with the given id and classes
// matches r.
func (r *styleRule) matches(n *html.Node, id string, classes []string) bool {
	if r.tag != "" && r.tag != strings.ToLower(n.Data) {
		return false
	}
	for _, want := range r.ids {
		if want != id {
			return false
		}
	}
	for _, want := range r.classes {
		found := false
		for _, c := range classes {
			if c == want {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// declarations returns the CSS declarations that apply to n, property to
// value: the legacy colour attributes (bgcolor, <font color>), then those
// of the matching style sheet rules, then the style attribute's (later
// ones win, as the cascade mostly has it).
func (sheet styleSheet) declarations(n *html.Node) map[string]string {
	decls := map[string]string{}
	var importantDecls []cssDecl
	var id, class, style string
	for _, a := range n.Attr {
		switch strings.ToLower(a.Key) {
		case "id":
			id = strings.ToLower(strings.TrimSpace(a.Val))
		case "class":
			class = strings.ToLower(a.Val)
		case "style":
			style = a.Val
		case "bgcolor":
			decls["background-color"] = strings.ToLower(strings.TrimSpace(a.Val))
		case "color":
			if n.DataAtom == atom.Font {
				decls["color"] = strings.ToLower(strings.TrimSpace(a.Val))
			}
		}
	}
	if len(sheet) > 0 {
		classes := strings.Fields(class)
		if len(classes) > maxElementClasses {
			classes = classes[:maxElementClasses]
		}
		var found []*styleRule
		add := func(key string) {
			for _, r := range sheet[key] {
				if len(found) < maxElementRules && r.matches(n, id, classes) {
					found = append(found, r)
				}
			}
		}
		add(strings.ToLower(n.Data))
		if id != "" {
			add("#" + id)
		}
		for _, c := range classes {
			add("." + c)
		}
		// Sheet order is lost by the index; rules are few, so the order
		// of lookup (tag, id, class) stands in for it.
		for _, r := range found {
			for _, d := range r.decls {
				decls[d.prop] = d.val
				if d.important {
					importantDecls = append(importantDecls, d)
				}
			}
		}
	}
	for _, d := range parseDecls(style) {
		decls[d.prop] = d.val
	}
	// A sheet's "!important" declaration beats the element's own style
	// (CSS Cascade §6.4).
	for _, d := range importantDecls {
		decls[d.prop] = d.val
	}
	return decls
}

// dropHidden removes from the tree the nodes a mail client does not
// show: comments (Outlook's conditional comments too), <template>,
// <script>, <style>, elements with the hidden attribute (HTML §6.1) and
// elements whose style (attribute or sheet rule) hides them (hiddenStyle).
func dropHidden(n *html.Node, sheet styleSheet) {
	dropHiddenIn(n, sheet, rgb{255, 255, 255, true})
}

// dropHiddenIn is dropHidden below an element whose background colour
// is bg (white, a mail's usual background, at the top).
func dropHiddenIn(n *html.Node, sheet styleSheet, bg rgb) {
	for c := n.FirstChild; c != nil; {
		next := c.NextSibling
		hidden, childBG := hiddenNode(c, sheet, bg)
		if hidden {
			n.RemoveChild(c)
		} else {
			dropHiddenIn(c, sheet, childBG)
		}
		c = next
	}
}

// hiddenNode reports whether n is hidden, and the background its
// children are drawn on.
func hiddenNode(n *html.Node, sheet styleSheet, bg rgb) (bool, rgb) {
	switch n.Type {
	case html.CommentNode:
		return true, bg
	case html.ElementNode:
	default:
		return false, bg
	}
	switch n.DataAtom {
	case atom.Template, atom.Script, atom.Style:
		return true, bg
	}
	for _, a := range n.Attr {
		if strings.EqualFold(a.Key, "hidden") {
			return true, bg
		}
	}
	return hiddenDecls(sheet.declarations(n), bg)
}

// hiddenStyleOn reports whether CSS declarations hide their element, drawn
// on a background bg, and the background its children are drawn on.
// Hiding is: display:none; visibility:hidden or collapse; mso-hide:all;
// opacity below 0.1; a font size below 3px, 2.5pt, 0.25em or 25%; the
// text colour transparent or (nearly) the background colour (named,
// #rgb, #rrggbb, rgb()); position moved left or up by 500px or more
// (left, top, negative margins); clip:rect() of no area; clip-path:
// inset(50% or more) or circle(0); transform:scale(0); text-indent of
// -500px or more with overflow:hidden; max-height:0; a zero height or
// width with overflow:hidden. Comments are removed and escapes decoded
// (CSS Syntax §4.3.7) before the declarations are read.
func hiddenStyleOn(style string, bg rgb) (bool, rgb) {
	decls := map[string]string{}
	for _, d := range parseDecls(style) {
		decls[d.prop] = d.val
	}
	return hiddenDecls(decls, bg)
}

// hiddenDecls is hiddenStyleOn for declarations already read, property
// to value.
func hiddenDecls(decls map[string]string, bg rgb) (bool, rgb) {
	if len(decls) == 0 {
		return false, bg
	}
	own := bg
	if c, ok := firstColor(decls["background"]); ok && c.a {
		own = c
	}
	if c, ok := parseColor(decls["background-color"]); ok && c.a {
		own = c
	}
	if decls["display"] == "none" || decls["mso-hide"] == "all" {
		return true, own
	}
	if v := decls["visibility"]; v == "hidden" || v == "collapse" {
		return true, own
	}
	if v, ok := decls["opacity"]; ok {
		if f, err := strconv.ParseFloat(strings.TrimSuffix(v, "%"), 64); err == nil {
			if strings.HasSuffix(v, "%") {
				f /= 100
			}
			if f < 0.1 {
				return true, own
			}
		}
	}
	if v, ok := decls["font-size"]; ok && tinyFont(v) {
		return true, own
	}
	if v, ok := decls["color"]; ok {
		if v == "transparent" {
			return true, own
		}
		if c, ok := parseColor(v); ok && (!c.a || c.near(own)) {
			return true, own
		}
	}
	if p := decls["position"]; p == "absolute" || p == "fixed" || p == "relative" {
		for _, side := range []string{"left", "top"} {
			if px, ok := cssPx(decls[side]); ok && px <= offScreen {
				return true, own
			}
		}
	}
	for _, side := range []string{"margin-left", "margin-top"} {
		if px, ok := cssPx(decls[side]); ok && px <= offScreen {
			return true, own
		}
	}
	if v, ok := decls["clip"]; ok && emptyClip(v) {
		return true, own
	}
	if v, ok := decls["clip-path"]; ok && emptyClipPath(v) {
		return true, own
	}
	if v, ok := decls["transform"]; ok && zeroScale(v) {
		return true, own
	}
	overflowHidden := false
	for _, p := range []string{"overflow", "overflow-x", "overflow-y"} {
		if v := decls[p]; v == "hidden" || v == "clip" {
			overflowHidden = true
		}
	}
	if px, ok := cssPx(decls["text-indent"]); ok && px <= offScreen && overflowHidden {
		return true, own
	}
	if v, ok := decls["max-height"]; ok && zeroLength(v) {
		return true, own
	}
	if overflowHidden {
		for _, p := range []string{"height", "line-height", "width", "max-width"} {
			if v, ok := decls[p]; ok && zeroLength(v) {
				return true, own
			}
		}
	}
	return false, own
}

// stripCSSComments removes /* … */ comments (an unclosed one runs to
// the end, CSS Syntax §4.3.2).
func stripCSSComments(s string) string {
	if !strings.Contains(s, "/*") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "/*")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		b.WriteByte(' ')
		j := strings.Index(s[i+2:], "*/")
		if j < 0 {
			return b.String()
		}
		s = s[i+2+j+2:]
	}
}

// cssUnescape decodes CSS escapes (CSS Syntax §4.3.7): a backslash with
// one to six hex digits and an optional white space is that code point
// (0, surrogates and values above U+10FFFF are U+FFFD); a backslash with
// any other character but a newline is that character.
func cssUnescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		j := i + 1
		for j < len(s) && j < i+7 && isHex(s[j]) {
			j++
		}
		if j > i+1 {
			v, _ := strconv.ParseUint(s[i+1:j], 16, 32)
			r := rune(v)
			if r == 0 || r > utf8.MaxRune || (r >= 0xD800 && r <= 0xDFFF) {
				r = utf8.RuneError
			}
			b.WriteRune(r)
			if j < len(s) && (s[j] == ' ' || s[j] == '\t' || s[j] == '\n') {
				j++
			}
			i = j - 1
			continue
		}
		if s[j] == '\n' {
			i = j // an escaped newline is nothing
			continue
		}
		_, size := utf8.DecodeRuneInString(s[j:])
		b.WriteString(s[j : j+size])
		i = j + size - 1
	}
	return b.String()
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// zeroLength reports whether a CSS value is a zero number with or
// without a unit ("0", "0px", ".0em", "0%").
func zeroLength(v string) bool {
	num := strings.TrimRight(v, "abcdefghijklmnopqrstuvwxyz%")
	if num == "" {
		return false
	}
	for _, c := range num {
		if c != '0' && c != '.' && c != '+' && c != '-' {
			return false
		}
	}
	return strings.ContainsRune(num, '0')
}

// cssLength splits a CSS length into its number and unit ("-9999px" is
// -9999, "px").
func cssLength(v string) (float64, string, bool) {
	v = strings.TrimSpace(v)
	i := len(v)
	for i > 0 && (v[i-1] >= 'a' && v[i-1] <= 'z' || v[i-1] == '%') {
		i--
	}
	f, err := strconv.ParseFloat(v[:i], 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, "", false
	}
	return f, v[i:], true
}

// cssPx is a length in px (em and rem at 16px, pt at 4/3 px, cm, mm, in);
// false for other units and for percentages.
func cssPx(v string) (float64, bool) {
	f, unit, ok := cssLength(v)
	if !ok {
		return 0, false
	}
	switch unit {
	case "px", "":
		return f, true
	case "em", "rem":
		return f * 16, true
	case "pt":
		return f * 4 / 3, true
	case "pc":
		return f * 16, true
	case "in":
		return f * 96, true
	case "cm":
		return f * 96 / 2.54, true
	case "mm":
		return f * 96 / 25.4, true
	}
	return 0, false
}

// tinyFont reports whether a font-size is too small to read: below 3px
// (2.25pt), 0.25em or 25%.
func tinyFont(v string) bool {
	f, unit, ok := cssLength(v)
	if !ok {
		return false
	}
	switch unit {
	case "%":
		return f < 25
	case "em", "rem", "ex", "ch":
		return f < 0.25
	}
	if px, ok := cssPx(v); ok {
		return px < 3
	}
	return f == 0
}

// emptyClip: clip:rect(a b c d) (or with commas) of no area (bottom at
// or above top, or right at or left of left).
func emptyClip(v string) bool {
	inner, ok := fnArgs(v, "rect")
	if !ok {
		return false
	}
	var px []float64
	for _, f := range strings.FieldsFunc(inner, func(r rune) bool { return r == ',' || r == ' ' }) {
		if f == "auto" {
			return false
		}
		p, ok := cssPx(f)
		if !ok {
			return false
		}
		px = append(px, p)
	}
	return len(px) == 4 && (px[2] <= px[0] || px[1] <= px[3])
}

// emptyClipPath: inset() of 50% or more, or a circle/ellipse of radius 0.
func emptyClipPath(v string) bool {
	if inner, ok := fnArgs(v, "inset"); ok {
		for _, f := range strings.Fields(strings.SplitN(inner, "round", 2)[0]) {
			if n, unit, ok := cssLength(f); ok && unit == "%" && n >= 50 {
				return true
			}
		}
		return false
	}
	for _, fn := range []string{"circle", "ellipse"} {
		if inner, ok := fnArgs(v, fn); ok {
			fields := strings.Fields(strings.SplitN(inner, " at ", 2)[0])
			return len(fields) > 0 && zeroLength(fields[0])
		}
	}
	return false
}

// zeroScale: transform:scale(0), scale(0, 1), scaleX(0), scaleY(0).
func zeroScale(v string) bool {
	for _, fn := range []string{"scale", "scalex", "scaley", "scale3d"} {
		rest := v
		for {
			i := strings.Index(rest, fn+"(")
			if i < 0 {
				break
			}
			if i > 0 && isIdentByte(rest[i-1]) {
				rest = rest[i+len(fn):]
				continue
			}
			inner, ok := fnArgs(rest[i:], fn)
			if !ok {
				break
			}
			for _, f := range strings.FieldsFunc(inner, func(r rune) bool { return r == ',' || r == ' ' }) {
				if n, err := strconv.ParseFloat(f, 64); err == nil && math.Abs(n) < 0.05 {
					return true
				}
			}
			rest = rest[i+len(fn):]
		}
	}
	return false
}

// fnArgs returns the arguments of a CSS function call v = "name(args)…".
func fnArgs(v, name string) (string, bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(v), name)
	if !ok {
		return "", false
	}
	rest = strings.TrimSpace(rest)
	if !strings.HasPrefix(rest, "(") {
		return "", false
	}
	end := strings.IndexByte(rest, ')')
	if end < 0 {
		return "", false
	}
	return strings.TrimSpace(rest[1:end]), true
}

// rgb is a colour; a is false for a fully transparent one.
type rgb struct {
	r, g, b uint8
	a       bool
}

// near reports whether two colours are indistinguishable (no channel
// differs by more than 8 of 255).
func (c rgb) near(d rgb) bool {
	diff := func(x, y uint8) int {
		if x > y {
			return int(x - y)
		}
		return int(y - x)
	}
	return diff(c.r, d.r) <= 8 && diff(c.g, d.g) <= 8 && diff(c.b, d.b) <= 8
}

// namedColors are the colour keywords mail uses for hiding (CSS Color
// §6.1, a subset).
var namedColors = map[string]rgb{
	"white": {255, 255, 255, true}, "black": {0, 0, 0, true}, "red": {255, 0, 0, true},
	"green": {0, 128, 0, true}, "blue": {0, 0, 255, true}, "yellow": {255, 255, 0, true},
	"gray": {128, 128, 128, true}, "grey": {128, 128, 128, true}, "silver": {192, 192, 192, true},
	"whitesmoke": {245, 245, 245, true}, "snow": {255, 250, 250, true}, "ivory": {255, 255, 240, true},
	"ghostwhite": {248, 248, 255, true}, "navy": {0, 0, 128, true}, "maroon": {128, 0, 0, true},
	"lightgray": {211, 211, 211, true}, "lightgrey": {211, 211, 211, true},
	"transparent": {0, 0, 0, false},
}

// parseColor reads a CSS colour: a name, #rgb, #rgba, #rrggbb,
// #rrggbbaa, rgb()/rgba() with numbers or percentages (CSS Color §4, §5).
func parseColor(v string) (rgb, bool) {
	v = strings.ToLower(strings.TrimSpace(v))
	if c, ok := namedColors[v]; ok {
		return c, true
	}
	if hex, ok := strings.CutPrefix(v, "#"); ok {
		for i := 0; i < len(hex); i++ {
			if !isHex(hex[i]) {
				return rgb{}, false
			}
		}
		n, _ := strconv.ParseUint(hex, 16, 64)
		switch len(hex) {
		case 3, 4:
			if len(hex) == 4 {
				if n&0xf == 0 {
					return rgb{a: false}, true
				}
				n >>= 4
			}
			return rgb{uint8(n>>8&0xf) * 17, uint8(n>>4&0xf) * 17, uint8(n&0xf) * 17, true}, true
		case 6, 8:
			if len(hex) == 8 {
				if n&0xff == 0 {
					return rgb{a: false}, true
				}
				n >>= 8
			}
			return rgb{uint8(n >> 16), uint8(n >> 8), uint8(n), true}, true
		}
		return rgb{}, false
	}
	inner, ok := fnArgs(v, "rgba")
	if !ok {
		inner, ok = fnArgs(v, "rgb")
	}
	if !ok {
		return rgb{}, false
	}
	parts := strings.FieldsFunc(inner, func(r rune) bool { return r == ',' || r == ' ' || r == '/' })
	if len(parts) < 3 {
		return rgb{}, false
	}
	var ch [3]uint8
	for i := 0; i < 3; i++ {
		f, unit, ok := cssLength(parts[i])
		if !ok || (unit != "" && unit != "%") {
			return rgb{}, false
		}
		if unit == "%" {
			f = f * 255 / 100
		}
		ch[i] = uint8(math.Max(0, math.Min(255, math.Round(f))))
	}
	c := rgb{ch[0], ch[1], ch[2], true}
	if len(parts) >= 4 {
		if f, unit, ok := cssLength(parts[3]); ok && f == 0 && (unit == "" || unit == "%") {
			c.a = false
		}
	}
	return c, true
}

// firstColor is the first colour among the words of a shorthand value
// ("background: #fff url(x.png) no-repeat").
func firstColor(v string) (rgb, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return rgb{}, false
	}
	// rgb() holds spaces: read it whole.
	for _, fn := range []string{"rgba(", "rgb("} {
		if i := strings.Index(v, fn); i >= 0 {
			if j := strings.IndexByte(v[i:], ')'); j > 0 {
				return parseColor(v[i : i+j+1])
			}
		}
	}
	for _, w := range strings.Fields(v) {
		if c, ok := parseColor(w); ok {
			return c, true
		}
	}
	return rgb{}, false
}
