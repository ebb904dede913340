package mailbox

// SetHooks sets the crash-point hooks for tests.
func (in *Intake) SetHooks(beforeCommit, afterCommit func()) {
	in.beforeCommit, in.afterCommit = beforeCommit, afterCommit
}
