"""The house layout (issue 12): who owns the guards, which way imports run.

These read dsr's source with :mod:`ast`, so they fail on the first new import that goes the wrong way.
"""

from __future__ import annotations

import ast
from pathlib import Path

import dsr

DSR = Path(dsr.__file__).parent
GUARDS = {"WRITERS", "READERS", "MANAGERS", "ROLE_NAMES", "require_role", "require_open", "check_version"}


def _modules():
    for path in sorted(DSR.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def test_no_module_takes_the_guards_from_lifecycle():
    offenders = [
        f"{path.relative_to(DSR.parent)}:{node.lineno} imports {alias.name}"
        for path, tree in _modules()
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "dsr.cases.lifecycle"
        for alias in node.names
        if alias.name in GUARDS
    ]
    assert offenders == []


def test_each_role_set_is_defined_once():
    """A tuple, list or set of ``Role`` members is a role set; only dsr/auth/roles.py writes one."""
    found = []
    for path, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Tuple | ast.Set | ast.List) and len(node.elts) >= 1 and all(
                isinstance(e, ast.Attribute) and isinstance(e.value, ast.Name) and e.value.id == "Role"
                for e in node.elts
            ):
                found.append(f"{path.relative_to(DSR.parent)}:{node.lineno}")
    assert found and all(place.startswith("dsr/auth/roles.py") for place in found), found


def _imports_of(relative: str) -> set[str]:
    tree = ast.parse((DSR / relative).read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


def test_completing_a_case_imports_no_feature():
    """lifecycle.complete reads the obligations registry; it imports nothing outside cases and the platform."""
    allowed = ("dsr.cases", "dsr.auth", "dsr.audit", "dsr.domain", "dsr.extensions", "dsr.timeutil")
    for module in ("cases/lifecycle.py", "cases/obligations.py", "cases/guards.py"):
        stray = {m for m in _imports_of(module) if m.startswith("dsr") and not m.startswith(allowed)}
        assert stray == set(), (module, stray)


def test_no_feature_imports_the_cli():
    """dsr/cli.py assembles the commands the features expose; a feature importing it would run the wrong way."""
    offenders = [
        str(path.relative_to(DSR.parent))
        for path, tree in _modules()
        if path.relative_to(DSR).as_posix() not in ("cli.py", "__init__.py")
        for node in ast.walk(tree)
        if (isinstance(node, ast.ImportFrom) and node.module == "dsr.cli")
        or (isinstance(node, ast.ImportFrom) and node.module == "dsr" and any(a.name == "cli" for a in node.names))
        or (isinstance(node, ast.Import) and any(a.name == "dsr.cli" for a in node.names))
    ]
    assert offenders == []


# Modules that may still import the audit trail's recording: none (the access preview's event moved into
# dsr.fulfilment.redaction_ops.preview_access with its GET -> POST conversion, issue 12 item 6).
NOT_YET: set[str] = set()


def _handles_requests(tree: ast.Module) -> bool:
    """A view module: it makes a blueprint or reads Flask's ``request``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Blueprint":
            return True
        if isinstance(node, ast.ImportFrom) and node.module == "flask" and any(a.name == "request" for a in node.names):
            return True
    return False


def _imports_audit_recording(tree: ast.Module) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (
            node.module == "dsr.audit.operations"
            or (node.module == "dsr.audit" and any(a.name == "operations" for a in node.names))
        ):
            lines.append(node.lineno)
        elif isinstance(node, ast.Import) and any(a.name == "dsr.audit.operations" for a in node.names):
            lines.append(node.lineno)
    return lines


def test_views_only_call_operations():
    """Every state change writes its audit event in an operation (issue 12, item 6): no module that serves
    requests imports the audit trail's recording functions, at the top or inside a function."""
    view_modules = [(path, tree) for path, tree in _modules() if _handles_requests(tree)]
    assert len(view_modules) > 20  # the blueprints are found
    offenders = [
        f"{path.relative_to(DSR.parent)}:{line}"
        for path, tree in view_modules
        if path.relative_to(DSR.parent).as_posix() not in NOT_YET
        for line in _imports_audit_recording(tree)
    ]
    assert offenders == []


def test_the_notices_feature_imports_none_of_the_rights_it_serves():
    """Art. 19 is a room of its own (issue 12, item 3): the rights that change data register the change with
    dsr.notices (the places changed and the recipients their records named); dsr.notices imports none of them."""
    registrants = {
        path.relative_to(DSR.parent).with_suffix("").as_posix().replace("/", ".")
        for path, tree in _modules()
        if not path.relative_to(DSR).as_posix().startswith("notices/")
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "register_change"
    }
    assert {"dsr.rectification.operations", "dsr.fulfilment.erasure.changes"} <= registrants
    # The package of each: dsr.rectification, dsr.fulfilment.erasure (a right inside fulfilment).
    rooms = {m.rsplit(".", 1)[0] if m.count(".") > 2 else ".".join(m.split(".")[:2]) for m in registrants}
    stray = {
        f"{path.relative_to(DSR.parent)} imports {module}"
        for path in sorted((DSR / "notices").rglob("*.py"))
        for module in _imports_of(path.relative_to(DSR).as_posix())
        if any(module == room or module.startswith(room + ".") for room in rooms)
    }
    assert stray == set()
