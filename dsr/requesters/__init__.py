"""Who asks (issue 18, item 3): a requester who is not the subject (an authorised representative, a parent
or guardian of a child under 16, a curator or mentor, a lawyer), their mandate checked and kept, both
identities checked, letters addressed to the requester about the subject; and a request about a deceased
person, recorded as such and answered with its own letter (the GDPR does not apply, recital 27)."""
