package majorreport

import (
	"fmt"
	"strconv"
)

// Limits on what a PDF may declare before the library reads it: the
// library sizes tables and buffers from numbers in the file (an xref
// stream's /Size and /Index make its object table, /W its record buffer,
// a predictor's /Columns its row buffers), so a file of a few hundred
// bytes declaring 400,000,000 objects would allocate gigabytes.
const (
	// maxPDFObjects bounds /Size and the /Index and /W numbers: a 20 MiB
	// file holds at most about two million objects.
	maxPDFObjects = 1 << 21
	// maxPDFColumns bounds a predictor's /Columns (bytes a row).
	maxPDFColumns = 1 << 16
)

// checkDeclared scans the whole file, streams included, for the keys
// whose numbers the library allocates by (names decoded as the library
// decodes them, "/S#69ze" being /Size), and refuses one that declares
// more than the limits, or gives a single number by indirect reference
// (which a scan cannot bound; writers give them directly, and the
// library reads /Size, /W and /Index only when direct). It returns an error
// wrapping ErrTooLarge or ErrMalformed, nil when the file is within
// them. A scan of everything cannot be led past a key by a stream's
// /Length or by where the cross-reference section points.
func checkDeclared(data []byte) error {
	for i := 0; i < len(data); i++ {
		if data[i] != '/' {
			continue
		}
		name, j := pdfName(data, i+1)
		var limit int64
		switch name {
		case "Size", "W", "Index":
			limit = maxPDFObjects
		case "Columns":
			limit = maxPDFColumns
		default:
			continue
		}
		j = skipSpace(data, j)
		if j < len(data) && data[j] == '[' {
			// An array of numbers, or of arrays of them (a font's /W).
			depth := 0
			for ; j < len(data); j++ {
				c := data[j]
				switch {
				case c == '[':
					depth++
				case c == ']':
					depth--
				case c == '+' || c == '-' || c >= '0' && c <= '9':
					n, k := pdfInt(data, j)
					if n > limit {
						return fmt.Errorf("%w: /%s declares %d, the limit is %d", ErrTooLarge, name, n, limit)
					}
					if k > j {
						j = k - 1
					}
				}
				if depth == 0 || j-i > 1<<20 {
					break
				}
			}
			continue
		}
		n, k := pdfInt(data, j)
		if k == j {
			continue // not a number: some other use of the name
		}
		if n > limit {
			return fmt.Errorf("%w: /%s declares %d, the limit is %d", ErrTooLarge, name, n, limit)
		}
		// "/Size 7 0 R": the number is elsewhere.
		k2 := skipSpace(data, k)
		if _, k3 := pdfInt(data, k2); k3 > k2 {
			if k4 := skipSpace(data, k3); k4 < len(data) && data[k4] == 'R' {
				return fmt.Errorf("%w: /%s is an indirect reference", ErrMalformed, name)
			}
		}
	}
	return nil
}

// pdfName reads a name's characters from i (after the "/"), decoding
// "#xx" escapes (ISO 32000-1 §7.3.5); it returns the name and the index
// after it.
func pdfName(data []byte, i int) (string, int) {
	var b []byte
	for i < len(data) && !isPDFDelim(data[i]) && !isPDFSpace(data[i]) && len(b) < 64 {
		if data[i] == '#' && i+2 < len(data) {
			if v, err := strconv.ParseUint(string(data[i+1:i+3]), 16, 8); err == nil {
				b = append(b, byte(v))
				i += 3
				continue
			}
		}
		b = append(b, data[i])
		i++
	}
	return string(b), i
}

// pdfInt reads an integer (sign, digits) at i; k == i when there is none.
// Values past the int64 range are returned as its maximum.
func pdfInt(data []byte, i int) (n int64, k int) {
	k = i
	if k < len(data) && (data[k] == '+' || data[k] == '-') {
		k++
	}
	start := k
	for k < len(data) && data[k] >= '0' && data[k] <= '9' {
		if n > (1<<62)/10 {
			n = 1 << 62
		} else {
			n = n*10 + int64(data[k]-'0')
		}
		k++
	}
	if k == start {
		return 0, i
	}
	if data[i] == '-' {
		n = -n
	}
	return n, k
}

// skipSpace skips white space and comments (ISO 32000-1 §7.2.2, §7.2.3).
func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch {
		case isPDFSpace(data[i]):
			i++
		case data[i] == '%':
			for i < len(data) && data[i] != '\n' && data[i] != '\r' {
				i++
			}
		default:
			return i
		}
	}
	return i
}

func isPDFSpace(c byte) bool {
	return c == 0 || c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ' '
}

func isPDFDelim(c byte) bool {
	switch c {
	case '(', ')', '<', '>', '[', ']', '{', '}', '/', '%':
		return true
	}
	return false
}
