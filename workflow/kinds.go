package workflow

// Typed names of what the rules record and send, so that summaries and
// the register count them by one list. The values are stored as they
// are (events.kind, outbox.kind) and are part of the public interface:
// "show --json" prints them.

// EventKind names a line of an incident's or problem's audit trail.
type EventKind string

// The event kinds.
const (
	EvCreated           EventKind = "created"               // an incident opened
	EvThreaded          EventKind = "threaded"              // a message joined
	EvRouted            EventKind = "routed"                // assigned by a route or the default
	EvNotified          EventKind = "notified"              // a notice queued to the assignee, the informed, a problem contact
	EvAcknowledged      EventKind = "acknowledged"          // the requester's acknowledgement queued
	EvNotAcknowledged   EventKind = "not_acknowledged"      // no acknowledgement, and why
	EvFirstResponse     EventKind = "first_response"        // the assignee's first authenticated human reply
	EvRelayed           EventKind = "relayed"               // a reply relayed to the other side
	EvTicketLearned     EventKind = "ticket_learned"        // a provider's ticket number learned
	EvFlagged           EventKind = "flagged"               // an unknown or unauthenticated sender, and what was not done
	EvStatus            EventKind = "status"                // a status change
	EvReopened          EventKind = "reopened"              // reopened by the requester
	EvFollowUp          EventKind = "follow_up"             // mail about a closed incident opened another
	EvCommand           EventKind = "command"               // a command ran
	EvCommandRefused    EventKind = "command_refused"       // a command did not run, and why
	EvCommandAuth       EventKind = "command_authenticated" // how the sender of commands was authenticated
	EvNotAnswered       EventKind = "not_answered"          // a refusal nobody was told of, and why
	EvDeliveryBounced   EventKind = "delivery_bounced"      // a bounce of our mail
	EvDeliveryDelayed   EventKind = "delivery_delayed"      // a delay warning about our mail
	EvResolutionNotice  EventKind = "resolution_notice"     // the requester told of the resolution
	EvResolutionNotSent EventKind = "resolution_not_sent"   // not told (automatic requester)
	EvProblemOpened     EventKind = "opened"                // a problem opened
	EvProblemLinked     EventKind = "problem_linked"        // an incident became part of a problem
	EvIncidentLinked    EventKind = "incident_linked"       // a problem gained an incident
	EvIncidentUnlinked  EventKind = "incident_unlinked"     // "#not-problem"
	EvSLAWarning        EventKind = "sla_warning"           // a target at warn_at
	EvSLALevel          EventKind = "sla_level"             // a breach escalated to a chain level
	EvSLAReminder       EventKind = "sla_reminder"          // the highest level reminded
)

// OutboxKind names an outgoing mail.
type OutboxKind string

// The outgoing mail kinds.
const (
	OutAck              OutboxKind = "ack"                // acknowledgement to the requester
	OutCommandReply     OutboxKind = "command_reply"      // why commands were refused
	OutNotifyTeam       OutboxKind = "notify_team"        // a new incident to a team's members
	OutNotifyProvider   OutboxKind = "notify_provider"    // a new incident to a provider's intake
	OutInformed         OutboxKind = "informed"           // a route's informed
	OutRelayToRequester OutboxKind = "relay_to_requester" // the assignee's reply
	OutRelayToAssignee  OutboxKind = "relay_to_assignee"  // the requester's reply
	OutResolution       OutboxKind = "resolution"         // the resolution notice
	OutProblemNotice    OutboxKind = "problem_notice"     // to a problem contact
	OutProblemRequester OutboxKind = "problem_requester"  // to a requester whose incident joined a problem
	OutSLAWarning       OutboxKind = "sla_warning"        // to the responsible party
	OutSLALevel         OutboxKind = "sla_level"          // to a chain level
	OutSLAReminder      OutboxKind = "sla_reminder"       // to the highest level reached
	OutSummary          OutboxKind = "summary"            // an accountability summary
)
