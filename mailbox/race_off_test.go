//go:build !race

package mailbox_test

const raceDetector = false
