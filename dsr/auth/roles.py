"""The role sets: who writes, who reads, who decides. The one definition every guard and view uses.

``WRITERS`` change cases (privacy manager and staff), ``READERS`` see them (the auditor too, read-only),
``MANAGERS`` take the decisions the GDPR puts on the controller (complete, refuse, balance an objection).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from dsr.domain.enums import Role

WRITERS = (Role.PRIVACY_MANAGER, Role.STAFF)
READERS = (Role.PRIVACY_MANAGER, Role.STAFF, Role.AUDITOR)
MANAGERS = (Role.PRIVACY_MANAGER,)
# The escalation report and the dashboard: the manager who acts on them and the auditor who oversees.
REPORT_READERS = (Role.PRIVACY_MANAGER, Role.AUDITOR)

# How a role reads in "Only a <role> may ...".
ROLE_NAMES = {Role.PRIVACY_MANAGER: _l("privacy manager"), Role.STAFF: _l("staff"), Role.AUDITOR: _l("auditor")}
