package config

import (
	"strings"
	"testing"
)

// TestRelayDisplayNameAndAttachmentLimit: relay defaults to true for
// teams and providers and can be turned off; display names default to
// readable forms; forward_attachments_max takes sizes with units or a
// number of bytes, defaults to 10MB and names a bad value.
func TestRelayDisplayNameAndAttachmentLimit(t *testing.T) {
	c, err := Parse("t.toml", []byte(minimal+routingConf))
	if err != nil {
		t.Fatal(err)
	}
	if !c.RelaysToRequester("it") || !c.RelaysToRequester("acme") || c.RelaysToRequester("nobody") {
		t.Errorf("relay defaults: it %v, acme %v", c.RelaysToRequester("it"), c.RelaysToRequester("acme"))
	}
	if got := strings.Join(c.RelayTo("it"), ","); got != "alice@example.com" {
		t.Errorf("RelayTo(it) = %q", got)
	}
	if c.DisplayName("it") != "IT team" || c.DisplayName("acme") != "Acme" || c.Routing.ForwardAttachmentsMax.Bytes != 10_000_000 {
		t.Errorf("defaults: %q %q %d", c.DisplayName("it"), c.DisplayName("acme"), c.Routing.ForwardAttachmentsMax.Bytes)
	}
	conf := strings.Replace(routingConf, "members = [\"alice@example.com\"]", "members = [\"alice@example.com\"]\nrelay = false\ndisplay_name = \"Service Desk\"", 1)
	conf = strings.Replace(conf, "default_assignee = \"it\"", "default_assignee = \"it\"\nforward_attachments_max = \"512KiB\"", 1)
	if c, err = Parse("t.toml", []byte(minimal+conf)); err != nil {
		t.Fatal(err)
	}
	if c.RelaysToRequester("it") || len(c.RelayTo("it")) != 1 || c.DisplayName("it") != "Service Desk" || c.Routing.ForwardAttachmentsMax.Bytes != 512<<10 {
		t.Errorf("set: relay %v, to %v, name %q, max %d", c.RelaysToRequester("it"), c.RelayTo("it"), c.DisplayName("it"), c.Routing.ForwardAttachmentsMax.Bytes)
	}
	for _, v := range []struct{ val, want string }{
		{"0", ""}, {"2048", ""}, {`"10 MB"`, ""},
		{`"lots"`, `forward_attachments_max`}, {"-1", "must not be negative"},
	} {
		conf := strings.Replace(routingConf, "default_assignee = \"it\"", "default_assignee = \"it\"\nforward_attachments_max = "+v.val, 1)
		_, err := Parse("t.toml", []byte(minimal+conf))
		if (v.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), v.want)) {
			t.Errorf("forward_attachments_max = %s: %v, want %q", v.val, err, v.want)
		}
	}
	c, _ = Parse("t.toml", []byte(minimal+strings.Replace(routingConf, "default_assignee = \"it\"", "default_assignee = \"it\"\nforward_attachments_max = 0", 1)))
	if c.Routing.ForwardAttachmentsMax.Bytes != 0 {
		t.Errorf("0 means no attachments forwarded, got %d", c.Routing.ForwardAttachmentsMax.Bytes)
	}
}
