-- Every Message-ID that stored mail refers to (In-Reply-To, References),
-- with the incident the mail belongs to. Mail that refers to an ancestor
-- helpdeskd never received (a root that went only to people, not to
-- support@) joins the incident of other mail that shares it, as JWZ
-- threading groups siblings under a missing parent.
CREATE TABLE message_refs (
    ref         TEXT NOT NULL,
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    PRIMARY KEY (ref, incident_id)
);
