//go:build race

package mailparse

// slowdown is how much slower code runs under the race detector (about
// 5 to 20 times); time limits in tests are multiplied by it.
const slowdown = 20
