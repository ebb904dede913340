package mailparse

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"
)

func TestZZSlow(t *testing.T) {
	files, _ := filepath.Glob("../../shared/corpus/*/*")
	type r struct {
		f string
		d time.Duration
	}
	var rs []r
	var total time.Duration
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		d := time.Hour
		for k := 0; k < 5; k++ {
			s := time.Now()
			Parse(raw, DefaultOptions)
			if e := time.Since(s); e < d {
				d = e
			}
		}
		total += d
		rs = append(rs, r{f, d})
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].d > rs[j].d })
	for _, x := range rs[:5] {
		t.Logf("%v %s", x.d, x.f)
	}
	t.Logf("total %v", total)
}
