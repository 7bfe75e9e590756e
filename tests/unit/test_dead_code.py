"""No dead code in dsr/ (issue 12, item 7): vulture finds no unused function, method, class, property or
import, nor unreachable code. What only a framework, a template or a test reads by name is listed, with the
reason, in tools/vulture_whitelist.py; functions registered by a decorator (routes, commands, job handlers,
erasure hooks) count as used.

Variables and attributes are left out: columns, form fields and framework settings are written to be read
by name (by SQLAlchemy, WTForms, Flask, the templates), which vulture cannot see.
"""

from __future__ import annotations

from pathlib import Path

import vulture

ROOT = Path(__file__).resolve().parents[2]
# The app factory is called by wsgi.py and a migration calls dsr.subjects.search: they are dsr's callers too.
SCANNED = [ROOT / "dsr", ROOT / "wsgi.py", ROOT / "gunicorn.conf.py", ROOT / "migrations",
           ROOT / "tools" / "vulture_whitelist.py"]
REGISTERING = ["@*.route", "@*.get", "@*.post", "@*.put", "@*.patch", "@*.delete", "@*.command", "@*.group",
               "@*.app_context_processor", "@*.context_processor", "@*.errorhandler", "@*.app_errorhandler",
               "@*.before_request", "@*.before_app_request", "@*.after_request", "@*.after_app_request",
               "@*.teardown_request", "@*.teardown_appcontext", "@*.app_template_filter", "@*.template_filter",
               "@*.app_template_global", "@*.user_loader", "@*.listens_for", "@validates", "@*.handler",
               "@handler", "@before_source_changes", "@after_source_commit"]
KINDS = {"function", "method", "class", "property", "import", "unreachable_code"}
CALLED_BY_NAME = ["upgrade", "downgrade",  # Alembic runs a revision's upgrade() and downgrade()
                  "post_worker_init"]  # gunicorn runs gunicorn.conf.py's hooks


def unused(paths: list[Path]) -> list[tuple[str, str]]:
    v = vulture.Vulture(ignore_names=CALLED_BY_NAME, ignore_decorators=REGISTERING)
    v.scavenge([str(p) for p in paths])
    return sorted((f"{item.filename}:{item.first_lineno}", item.message)
                  for item in v.get_unused_code(min_confidence=60) if item.typ in KINDS)


def test_dsr_has_no_dead_code():
    assert unused(SCANNED) == []


def test_the_check_finds_a_dead_function_and_spares_a_route(tmp_path):
    """The check can fail: a function nothing calls is found; a route's view is not."""
    module = tmp_path / "example.py"
    module.write_text(
        "from flask import Blueprint\n\nbp = Blueprint('x', __name__)\n\n\n"
        "@bp.get('/')\ndef page():\n    return ''\n\n\n"
        "def forgotten():\n    return 1\n")
    assert unused([module]) == [(f"{module}:11", "unused function 'forgotten'")]
