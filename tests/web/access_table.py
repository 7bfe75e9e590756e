"""THE declared access table: who may GET and POST every route of dsr (issue 17, acceptance 7).

tests/web/test_access_table.py requests every rule in ``url_map`` with GET and POST as an anonymous
visitor, an auditor, staff and a privacy manager, and compares each answer with this table. A route
without an entry fails the test, and so does a route whose methods differ from its entry.

Adding a route: add one line ``"blueprint.endpoint": {"GET": <who>, "POST": <who>}`` with only the
methods the route accepts (of GET and POST), ``<who>`` being one of the sets below. "May" means the
answer is not a refusal: anonymous visitors are refused with a redirect to the login page (401 under
/api/), signed-in users with 403. The API is called with a bearer token of each role, the pages with a
logged-in browser session.
"""

from __future__ import annotations

ANONYMOUS, AUDITOR, STAFF, MANAGER = "anonymous", "auditor", "staff", "privacy_manager"
WHO = (ANONYMOUS, AUDITOR, STAFF, MANAGER)

EVERYONE = frozenset(WHO)                          # public: the login page and the static assets
SIGNED_IN = frozenset({AUDITOR, STAFF, MANAGER})   # every role; the auditor only reads
WRITERS = frozenset({STAFF, MANAGER})
MANAGERS = frozenset({MANAGER})
READERS_OF_REPORTS = frozenset({AUDITOR, MANAGER})  # the dashboard and escalations: oversight, not casework

ACCESS: dict[str, dict[str, frozenset[str]]] = {
    # -- public
    "auth.login": {"GET": EVERYONE, "POST": EVERYONE},
    # Sign-on through OpenID Connect (404 when not configured); tests/web/test_sign_on.py drives it.
    "oidc.start": {"GET": EVERYONE},
    "oidc.callback": {"GET": EVERYONE},
    "static": {"GET": EVERYONE},
    "bootstrap.static": {"GET": EVERYONE},
    # -- the user's own account
    "auth.logout": {"POST": SIGNED_IN},
    "auth.preferences": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "auth.change_password": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "auth.totp_setup": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    # The second login step: without a password step just passed it sends the visitor to /login (a refusal
    # for the anonymous visitor of this table; tests/web/test_two_step.py drives it properly).
    "auth.login_totp": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "tokens.own": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    # A colleague's token: only a manager may revoke it (every user revokes their own: test_api_tokens.py).
    "tokens.revoke": {"POST": MANAGERS},
    # -- users (privacy managers)
    "users.index": {"GET": MANAGERS, "POST": MANAGERS},
    "users.toggle_active": {"POST": MANAGERS},
    "users.reset": {"POST": MANAGERS},
    "users.logins": {"GET": MANAGERS},
    "tokens.everyone": {"GET": MANAGERS},
    # -- queue, intake, case page
    "cases.index": {"GET": SIGNED_IN},
    "cases.queue": {"GET": SIGNED_IN},
    "cases.queue_csv": {"GET": SIGNED_IN},
    # A saved view is the person's own (like their preferences): the auditor may keep views too.
    "cases.save_view": {"POST": SIGNED_IN},
    "cases.delete_view": {"POST": SIGNED_IN},
    "cases.new": {"GET": WRITERS, "POST": WRITERS},
    "cases.matches": {"GET": WRITERS},
    # -- reading a scanned letter into the intake form (dsr/reading)
    "reading.upload": {"POST": WRITERS},
    "reading.intake": {"GET": WRITERS, "POST": WRITERS},
    "reading.status": {"GET": WRITERS},
    "reading.page": {"GET": SIGNED_IN},
    "cases.detail": {"GET": SIGNED_IN},
    "cases.audit_trail": {"GET": SIGNED_IN},
    "cases.audit_trail_csv": {"GET": SIGNED_IN},
    "case_actions.act": {"POST": WRITERS},
    "case_actions.act_get": {"GET": WRITERS},  # the form of a change: not for the auditor
    "triage.index": {"GET": MANAGERS},
    "triage.assign_many": {"POST": MANAGERS},
    "attachments.download": {"GET": SIGNED_IN},
    # A scan shown beside the case's key facts, and the file itself inline (a PDF or an image): every role reads.
    "attachments.view": {"GET": SIGNED_IN},
    "attachments.inline": {"GET": SIGNED_IN},
    # -- fulfilment: lookup, erasure, access, rectification, objection
    "fulfilment.act": {"POST": WRITERS},
    "fulfilment.act_get": {"GET": WRITERS},  # the form of a change: not for the auditor
    "fulfilment.lookup_records": {"GET": SIGNED_IN},
    "fulfilment.confirm_execution": {"GET": WRITERS},  # what executing the erasure will do, before it is done
    "access.preview": {"POST": SIGNED_IN},  # reads Harmony's systems and is audited: a POST (issue 12.6)
    "access.decide_value": {"POST": WRITERS},  # staff prepare, the privacy manager decides (issue 18.4)
    "rectification.act": {"POST": WRITERS},
    "rectification.act_get": {"GET": WRITERS},  # the form of a change: not for the auditor
    "notices.act": {"POST": WRITERS},
    "notices.act_get": {"GET": WRITERS},  # the form of a change: not for the auditor
    "objection.act": {"POST": WRITERS},
    "objection.act_get": {"GET": WRITERS},  # the form of a change: not for the auditor
    # Restriction (Art. 18): the card's actions; deciding and lifting are refused to staff by the operation.
    "restriction.act": {"POST": WRITERS},
    "restriction.act_get": {"GET": WRITERS},
    # -- letters, exports, jobs
    "letters.issue": {"POST": WRITERS},
    "letters.preview": {"POST": WRITERS},
    "letters.download": {"GET": SIGNED_IN},
    "letters.asset": {"GET": WRITERS},
    "exports.request_export": {"POST": WRITERS},
    "exports.download": {"GET": WRITERS},  # a copy of all of a person's data: for casework only
    "jobs.card": {"GET": SIGNED_IN},
    "jobs.retry": {"POST": WRITERS},
    # -- reports
    "reports.dashboard": {"GET": READERS_OF_REPORTS},
    "reports.chart": {"GET": READERS_OF_REPORTS},
    "reports.escalations": {"GET": READERS_OF_REPORTS},
    # -- days declared equal to public holidays (Atw art. 3(3)): everyone reads them, managers keep them
    "declared_days.index": {"GET": SIGNED_IN, "POST": MANAGERS},
    "declared_days.remove": {"POST": MANAGERS},
    # -- texts for the subject (issue 14.2): every role reads them, writers write them; managers keep the library
    "texts.case_texts": {"GET": SIGNED_IN},
    "texts.save": {"POST": WRITERS},
    "texts.library": {"GET": SIGNED_IN, "POST": MANAGERS},
    "texts.remove": {"POST": MANAGERS},
    # -- dsr's own retention, unanswered requests, direct transmission (issue 18)
    "casefiles.place": {"POST": MANAGERS},
    "casefiles.release": {"POST": MANAGERS},
    "unanswered.close": {"POST": MANAGERS},
    "transmissions.record": {"POST": WRITERS},
    # -- automated decisions (issue 18, item 2)
    "automated.record_request": {"POST": WRITERS},
    "automated.record_review": {"POST": WRITERS},
    "requesters.act": {"POST": WRITERS},
    "fees.act": {"POST": WRITERS},  # proposing a fee: the privacy manager only (403 for staff, test_fees.py)
    # -- API v1 (bearer tokens); its description is public, as any API's is
    "api_docs.openapi": {"GET": EVERYONE},
    "api.list_cases": {"GET": SIGNED_IN},
    "api.get_case": {"GET": SIGNED_IN},
    "api.create_case": {"POST": WRITERS},
    "api.case_operation": {"POST": WRITERS},
    "suppression_api.check": {"POST": SIGNED_IN},
    # the lookup and the erasure plan in the API (issue 13, item 11): deciding and approving are the manager's
    "fulfilment_api.run_lookup": {"POST": WRITERS},
    "fulfilment_api.get_lookup": {"GET": SIGNED_IN},
    "fulfilment_api.confirm_lookup": {"POST": WRITERS},
    "fulfilment_api.build_plan": {"POST": WRITERS},
    "fulfilment_api.get_plan": {"GET": SIGNED_IN},
    "fulfilment_api.decide": {"POST": MANAGERS},
    "fulfilment_api.approve": {"POST": MANAGERS},
    "fulfilment_api.execute": {"POST": WRITERS},
}
