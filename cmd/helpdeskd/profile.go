package main

import (
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
)

// startProfiles writes a CPU profile and, at the end, a heap profile into
// the directory named by $HELPDESKD_PROFILE_DIR, when it is set
// ("helpdeskd loadtest --profile" sets it for its child). The returned
// function stops them.
func startProfiles() func() {
	dir := os.Getenv("HELPDESKD_PROFILE_DIR")
	if dir == "" {
		return func() {}
	}
	cpu, err := os.Create(filepath.Join(dir, "cpu.pprof"))
	if err != nil {
		return func() {}
	}
	if err := pprof.StartCPUProfile(cpu); err != nil {
		cpu.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		cpu.Close()
		if f, err := os.Create(filepath.Join(dir, "heap.pprof")); err == nil {
			runtime.GC()
			pprof.Lookup("allocs").WriteTo(f, 0)
			f.Close()
		}
	}
}
