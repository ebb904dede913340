package config

import (
	"regexp"
	"strings"
)

// lineIndex finds the line a key was written on. BurntSushi/toml reports
// positions only for syntax errors, so validation errors locate their key
// by reading the file the way a person would: the table headers, then the
// "key =" line inside the table.
type lineIndex struct {
	lines []string
}

func newLineIndex(data []byte) *lineIndex {
	return &lineIndex{lines: strings.Split(string(data), "\n")}
}

var tableHeader = regexp.MustCompile(`^\s*\[\[?\s*([A-Za-z0-9_.\-" ]+?)\s*\]\]?\s*(?:#.*)?$`)
var keyLine = regexp.MustCompile(`^\s*"?([A-Za-z0-9_\-]+)"?\s*=`)

// find returns the 1-based line of the key path, the line of its table
// when the key itself is absent, or 0.
func (li *lineIndex) find(path []string) int {
	if li == nil || len(path) == 0 {
		return 0
	}
	table := strings.Join(path[:len(path)-1], ".")
	last := path[len(path)-1]
	current := ""
	tableLine := 0
	for i, line := range li.lines {
		if m := tableHeader.FindStringSubmatch(line); m != nil {
			current = strings.ReplaceAll(m[1], `"`, "")
			if current == table && tableLine == 0 {
				tableLine = i + 1
			}
			// A key that is itself a table ([metrics] when unknown).
			if strings.Join(path, ".") == current {
				return i + 1
			}
			continue
		}
		if current != table {
			continue
		}
		if m := keyLine.FindStringSubmatch(line); m != nil && m[1] == last {
			return i + 1
		}
	}
	return tableLine
}

// findIn returns the line of key in the nth (1-based) [[table]] block, or
// of the block's header when the key is absent.
func (li *lineIndex) findIn(table string, n int, key string) int {
	if li == nil {
		return 0
	}
	seen, header := 0, 0
	for i, line := range li.lines {
		if m := tableHeader.FindStringSubmatch(line); m != nil {
			if header != 0 {
				return header // the block ended without the key
			}
			if strings.HasPrefix(strings.TrimSpace(line), "[[") && strings.ReplaceAll(m[1], `"`, "") == table {
				seen++
				if seen == n {
					header = i + 1
				}
			}
			continue
		}
		if header != 0 {
			if m := keyLine.FindStringSubmatch(line); m != nil && m[1] == key {
				return i + 1
			}
		}
	}
	return header
}

var priorityKey = regexp.MustCompile(`(?:^|[\s{,])priority\s*=`)

// findTarget returns the line of the jth (1-based) target of the nth
// [[sla]] block: the line holding that target's jth "priority =", in the
// inline form (targets = [ { priority = "P1", … }, … ]) or as
// [[sla.targets]] tables; the "targets =" line when it cannot tell.
func (li *lineIndex) findTarget(n, j int) int {
	fallback := li.findIn("sla", n, "targets")
	if li == nil {
		return fallback
	}
	seen, inBlock, count := 0, false, 0
	for i, line := range li.lines {
		code, _, _ := strings.Cut(line, "#")
		if m := tableHeader.FindStringSubmatch(line); m != nil {
			name := strings.ReplaceAll(m[1], `"`, "")
			switch {
			case strings.HasPrefix(strings.TrimSpace(line), "[[") && name == "sla":
				seen++
				inBlock = seen == n
			case inBlock && strings.HasPrefix(name, "sla."):
			default:
				if inBlock {
					return fallback
				}
			}
			continue
		}
		if !inBlock {
			continue
		}
		count += len(priorityKey.FindAllStringIndex(code, -1))
		if count >= j {
			return i + 1
		}
	}
	return fallback
}
