//go:build !race

package mailparse

const slowdown = 1
