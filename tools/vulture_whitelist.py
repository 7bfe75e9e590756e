"""What vulture reports as unused in dsr/ but is used, each with the reason (issue 12, item 7).

Read by tests/unit/test_dead_code.py, never imported or run: vulture counts a name as used when it appears
here. Code only the templates, a framework or a test reads by name is listed; anything else vulture finds
is dead and goes. Decorators that register a function (routes, commands, job handlers, erasure hooks) are
ignored by the test itself, so their functions need no entry.
"""

# Frameworks call these by name.
User.is_active  # Flask-Login's UserMixin property, read on every request (dsr/auth/models.py)
UTCDateTime.process_bind_param  # SQLAlchemy TypeDecorator hooks (dsr/extensions.py)
UTCDateTime.process_result_value
SafeFetcher.fetch  # WeasyPrint's URLFetcher calls fetch() for every resource of a letter (dsr/pdf.py)
BoundedPagination._query_items  # Flask-SQLAlchemy's Pagination reads its page and count through these
BoundedPagination._query_count  # (dsr/cases/queries.py)
# WTForms calls validate_<field> for the field of that name (dsr/cases/forms.py).
IntakeForm.validate_name
IntakeForm.validate_date_of_birth
IntakeForm.validate_received_on
IntakeForm.validate_rights
IntakeForm.validate_phone
IntakeForm.validate_postcode
IntakeForm.validate_device_id
CountryField.pre_validate  # WTForms calls a field's pre_validate before its validators (dsr/cases/forms.py)

# Templates read these.
CaseClock.promise_moved  # templates/cases/_clock.html
FoundRecord.shared_reason_in  # templates/fulfilment/lookup.html
LegalHold.is_active  # templates/fulfilment/_data_card.html
Source.contact_for  # templates/fulfilment/_data_card.html
EscalationReport.overdue_counts  # templates/reports/_items.html (the banner and the report)
ApiToken.usable  # templates/auth/tokens.html (valid or expired)

# Loaded by name through dsr.letters.facts._optional("dsr.<feature>.facts", "<name>", ...).
objection_facts
rectification_facts
restriction_facts

# The domain's interface, read by the tests that pin it down.
WorkingDayCalendar.is_holiday  # tests/unit/test_calendar_nl.py: the statutory holidays, year by year
WorkingDayCalendar.holidays_in_year
Decision.kept_until  # tests/unit/test_retention.py: "kept through" as the letters word it, from erase_on
find_records  # tests/integration/test_harmony_demo.py: one source's records as a list (a lookup uses search_everywhere)
forget  # tests/conftest.py: the dashboard's kept figures dropped when a test wipes the database
find_everywhere  # tests/integration/test_shared_records.py and the demo tests: every source's records as lists
