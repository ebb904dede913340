//go:build race

package mailbox_test

// raceDetector is true under -race. go-imap v2.0.0-beta.8's client races
// on its own bufio.Reader when the connection drops in the middle of a
// FETCH literal (imapclient read loop vs. FetchCommand literal reader), so
// the disconnect test runs without the race detector: .ci/run runs it
// separately.
const raceDetector = true
