"""The import contracts (issue 12, items 8 and 9) catch what is added later, and dsr has no import cycle.

The contracts themselves run in ``make test`` (``lint-imports``); these tests add an import that goes the
wrong way to dsr's real import graph and check that the contract, as ``pyproject.toml`` configures it,
breaks. The cycle check builds the graph with grimp (import-linter's own library) and fails on the first
cycle among dsr's modules.
"""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path

import grimp
import pytest

from tools.contracts import RoomsContract

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph("dsr", cache_dir=None)


def _contract(kind: str) -> dict:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    (options,) = [c for c in config["contracts"] if c["type"] == kind]
    return {k: v for k, v in options.items() if k not in ("name", "type")}


def _rooms(graph):
    contract = RoomsContract(name="rooms", session_options={"root_packages": ["dsr"]},
                             contract_options=_contract("dsr_layers"))
    return contract.check(copy.deepcopy(graph), verbose=False)


def test_the_rooms_contract_holds_today(graph):
    check = _rooms(graph)
    assert check.kept, check.metadata["upward"]
    assert {"rectification", "objection", "notices", "suppression", "letters"} <= set(check.metadata["features"])


@pytest.mark.parametrize(("importer", "imported"), [
    ("dsr.auth.models", "dsr.cases.models"),  # platform -> cases
    ("dsr.cases.lifecycle", "dsr.rectification.operations"),  # cases -> feature
    ("dsr.rectification.operations", "dsr.objection.views"),  # feature -> web shell
    ("dsr.notices.operations", "dsr.cli"),  # feature -> the CLI
])
def test_an_import_against_the_order_breaks_it(graph, importer, imported):
    changed = copy.deepcopy(graph)
    changed.add_import(importer=importer, imported=imported, line_number=1, line_contents="import")
    check = _rooms(changed)
    assert not check.kept and [(i, m) for i, _l, m, _ml, _n in check.metadata["upward"]] == [(importer, imported)]


def test_a_new_feature_package_is_covered_without_editing_the_contract(graph):
    changed = copy.deepcopy(graph)
    for module in ("dsr.restriction", "dsr.restriction.operations", "dsr.restriction.views"):
        changed.add_module(module)
    changed.add_import(importer="dsr.restriction.operations", imported="dsr.cases.guards")  # fine: down
    assert _rooms(changed).kept
    changed.add_import(importer="dsr.subjects.models", imported="dsr.restriction.operations")  # platform -> it
    changed.add_import(importer="dsr.restriction.operations", imported="dsr.restriction.views")  # -> shell
    check = _rooms(changed)
    assert not check.kept and "restriction" in check.metadata["features"]
    assert {(i, m) for i, _l, m, _ml, _n in check.metadata["upward"]} == {
        ("dsr.subjects.models", "dsr.restriction.operations"),
        ("dsr.restriction.operations", "dsr.restriction.views")}


def _cycles(graph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph.modules):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.find_modules_directly_imported_by(start))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_cycle_among_dsrs_modules(graph):
    """Imports inside functions count too: a cycle hidden in a function is still a cycle."""
    assert _cycles(graph) == []


def test_the_cycle_check_finds_a_new_cycle(graph):
    changed = copy.deepcopy(graph)
    changed.add_import(importer="dsr.cases.models", imported="dsr.notices.operations")
    assert any({"dsr.cases.models", "dsr.notices.operations"} <= set(c) for c in _cycles(changed))
