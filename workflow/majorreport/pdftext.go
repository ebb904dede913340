package majorreport

import (
	"math"
	"strings"

	"github.com/ledongthuc/pdf"
)

// The text of a PDF page is read here with the library's object parser,
// stream filters, font encodings and content-stream interpreter, but with
// our own text state (ISO 32000-1 §9.3, §9.4): the library's Page.Content
// appends a "\n" pseudo-glyph after every TJ, which the page font's
// encoding turns into a real letter in subset fonts (LibreOffice's
// "Incident summaryd"), and it ignores word spacing (Tw), so words of
// justified lines run together or split.

// maxChunks bounds the text-showing operations read from one page.
const maxChunks = 200000

// chunk is one string shown by Tj, TJ, ' or ", placed on the page.
type chunk struct {
	s     string
	x, y  float64 // start of the baseline, in user space
	w, fs float64 // advance width and font size, in user space
}

// mat is a PDF transformation matrix [a b 0; c d 0; e f 1].
type mat [6]float64

var identity = mat{1, 0, 0, 1, 0, 0}

func (m mat) mul(n mat) mat {
	return mat{
		m[0]*n[0] + m[1]*n[2], m[0]*n[1] + m[1]*n[3],
		m[2]*n[0] + m[3]*n[2], m[2]*n[1] + m[3]*n[3],
		m[4]*n[0] + m[5]*n[2] + n[4], m[4]*n[1] + m[5]*n[3] + n[5],
	}
}

func translate(tx, ty float64) mat { return mat{1, 0, 0, 1, tx, ty} }

// fontInfo is what the text state needs of a font: how to decode its
// codes, how many bytes a code takes and how wide each is.
type fontInfo struct {
	enc     pdf.TextEncoding
	twoByte bool // a Type0 (composite) font: 2-byte codes (Identity-H)
	first   int
	widths  []float64       // simple font: Widths from FirstChar
	cid     map[int]float64 // Type0 font: the descendant's W array
	dw      float64         // Type0 font: DW, the default width
}

func (f *fontInfo) width(code int) float64 {
	if f.twoByte {
		if w, ok := f.cid[code]; ok {
			return w
		}
		return f.dw
	}
	if i := code - f.first; i >= 0 && i < len(f.widths) && f.widths[i] > 0 {
		return f.widths[i]
	}
	return 500 // a standard font without Widths: about an average glyph
}

func loadFont(v pdf.Value) *fontInfo {
	checkStream(v.Key("ToUnicode"), "a font's ToUnicode map")
	f := pdf.Font{V: v}
	fi := &fontInfo{enc: f.Encoder(), dw: 1000}
	if v.Key("Subtype").Name() == "Type0" {
		fi.twoByte = true
		d := v.Key("DescendantFonts").Index(0)
		if dw := d.Key("DW"); dw.Kind() == pdf.Integer || dw.Kind() == pdf.Real {
			fi.dw = dw.Float64()
		}
		fi.cid = map[int]float64{}
		w := d.Key("W")
		// [c [w1 w2 ...]] or [c_first c_last w], ISO 32000-1 §9.7.4.3.
		for i := 0; i+1 < w.Len() && len(fi.cid) < 1<<16; {
			c := int(w.Index(i).Int64())
			if next := w.Index(i + 1); next.Kind() == pdf.Array {
				for j := 0; j < next.Len() && len(fi.cid) < 1<<16; j++ {
					fi.cid[c+j] = next.Index(j).Float64()
				}
				i += 2
				continue
			}
			if i+2 >= w.Len() {
				break
			}
			last, wd := int(w.Index(i+1).Int64()), w.Index(i+2).Float64()
			for c2 := c; c2 <= last && c2-c < 1<<16 && len(fi.cid) < 1<<16; c2++ {
				fi.cid[c2] = wd
			}
			i += 3
		}
		return fi
	}
	fi.first = f.FirstChar()
	ws := v.Key("Widths")
	for i := 0; i < ws.Len() && i < 256; i++ {
		fi.widths = append(fi.widths, ws.Index(i).Float64())
	}
	return fi
}

// pageChunks interprets the page's content stream and returns the strings
// it shows, in stream order, with their positions. Form XObjects and
// Type3 fonts are not followed.
func pageChunks(p pdf.Page) []chunk {
	contents := p.V.Key("Contents")
	if contents.Kind() == pdf.Null {
		return nil
	}
	fontDict := p.Resources().Key("Font")
	fonts := map[string]*fontInfo{}
	type gstate struct {
		ctm                       mat
		tc, tw, th, tl, tfs, rise float64
		font                      *fontInfo
	}
	g := gstate{ctm: identity, th: 1}
	var (
		stack  []gstate
		tm     = identity
		tlm    = identity
		chunks []chunk
	)
	show := func(raw string) {
		if g.font == nil || len(chunks) >= maxChunks {
			return
		}
		trm := mat{g.tfs * g.th, 0, 0, g.tfs, 0, g.rise}.mul(tm).mul(g.ctm)
		step := 1
		if g.font.twoByte {
			step = 2
		}
		var adv float64
		for i := 0; i+step <= len(raw); i += step {
			code := int(raw[i])
			if step == 2 {
				code = code<<8 | int(raw[i+1])
			}
			tx := g.font.width(code)/1000*g.tfs + g.tc
			if step == 1 && code == ' ' {
				tx += g.tw
			}
			adv += tx * g.th
		}
		end := translate(adv, 0).mul(tm)
		trmEnd := mat{g.tfs * g.th, 0, 0, g.tfs, 0, g.rise}.mul(end).mul(g.ctm)
		fs := math.Hypot(trm[2], trm[3])
		chunks = append(chunks, chunk{
			s: g.font.enc.Decode(raw), x: trm[4], y: trm[5],
			w: trmEnd[4] - trm[4], fs: fs,
		})
		tm = end
	}
	num := func(v pdf.Value) float64 { return v.Float64() }
	nextLine := func(tx, ty float64) {
		tlm = translate(tx, ty).mul(tlm)
		tm = tlm
	}
	pdf.Interpret(contents, func(stk *pdf.Stack, op string) {
		n := stk.Len()
		args := make([]pdf.Value, n)
		for i := n - 1; i >= 0; i-- {
			args[i] = stk.Pop()
		}
		switch op {
		case "q":
			if len(stack) < 64 {
				stack = append(stack, g)
			}
		case "Q":
			if len(stack) > 0 {
				g, stack = stack[len(stack)-1], stack[:len(stack)-1]
			}
		case "cm":
			if n == 6 {
				var m mat
				for i := range m {
					m[i] = num(args[i])
				}
				g.ctm = m.mul(g.ctm)
			}
		case "BT":
			tm, tlm = identity, identity
		case "Tf":
			if n == 2 {
				name := args[0].Name()
				fi, ok := fonts[name]
				if !ok {
					fi = loadFont(fontDict.Key(name))
					fonts[name] = fi
				}
				g.font, g.tfs = fi, num(args[1])
			}
		case "Tc":
			if n == 1 {
				g.tc = num(args[0])
			}
		case "Tw":
			if n == 1 {
				g.tw = num(args[0])
			}
		case "Tz":
			if n == 1 {
				g.th = num(args[0]) / 100
			}
		case "TL":
			if n == 1 {
				g.tl = num(args[0])
			}
		case "Ts":
			if n == 1 {
				g.rise = num(args[0])
			}
		case "Td":
			if n == 2 {
				nextLine(num(args[0]), num(args[1]))
			}
		case "TD":
			if n == 2 {
				g.tl = -num(args[1])
				nextLine(num(args[0]), num(args[1]))
			}
		case "Tm":
			if n == 6 {
				var m mat
				for i := range m {
					m[i] = num(args[i])
				}
				tm, tlm = m, m
			}
		case "T*":
			nextLine(0, -g.tl)
		case "Tj":
			if n == 1 {
				show(args[0].RawString())
			}
		case "'":
			if n == 1 {
				nextLine(0, -g.tl)
				show(args[0].RawString())
			}
		case "\"":
			if n == 3 {
				g.tw, g.tc = num(args[0]), num(args[1])
				nextLine(0, -g.tl)
				show(args[2].RawString())
			}
		case "TJ":
			if n != 1 {
				return
			}
			a := args[0]
			for i := 0; i < a.Len(); i++ {
				x := a.Index(i)
				if x.Kind() == pdf.String {
					show(x.RawString())
				} else {
					tm = translate(-x.Float64()/1000*g.tfs*g.th, 0).mul(tm)
				}
			}
		}
	})
	return chunks
}

// ligatures maps the typographic ligatures PDFs use to their letters.
var ligatures = strings.NewReplacer("ﬀ", "ff", "ﬁ", "fi", "ﬂ", "fl", "ﬃ", "ffi", "ﬄ", "ffl", "ﬅ", "st", "ﬆ", "st", "\u00ad", "", "\x00", "")

// layoutChunks writes a page's strings as lines of text: a new line where
// the baseline moves by more than 0.4 font sizes, a blank line where it
// drops by more than 1.6, and a space between two strings of a line when
// the gap between them is wider than 0.15 font sizes (a word break
// written as a position adjustment, or a table column) or the second
// starts left of the first.
func layoutChunks(b *strings.Builder, chunks []chunk) {
	var (
		prev  *chunk
		lineY float64
	)
	for i := range chunks {
		c := &chunks[i]
		s := ligatures.Replace(c.s)
		s = strings.Map(func(r rune) rune {
			if r == '\n' || r == '\r' || r == '\t' {
				return ' '
			}
			return r
		}, s)
		if s == "" {
			continue
		}
		fs := c.fs
		if fs < 1 {
			fs = 10
		}
		if prev != nil && math.Abs(c.y-lineY) > fs*0.4 {
			if lineY-c.y > fs*1.6 {
				b.WriteString("\n\n")
			} else {
				b.WriteByte('\n')
			}
			prev = nil
		}
		if prev == nil {
			lineY = c.y
		} else if !strings.HasSuffix(prev.s, " ") && !strings.HasPrefix(s, " ") {
			gap := c.x - (prev.x + prev.w)
			if gap > fs*0.15 || c.x < prev.x-fs {
				b.WriteByte(' ')
			}
		}
		b.WriteString(s)
		prev = &chunk{s: s, x: c.x, w: c.w, fs: fs}
	}
}
