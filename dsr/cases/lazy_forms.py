"""Forms made when a template first asks for them (issue 15, item 3): the case page's and its cards'.

A module of its own: the case page (dsr.cases.page) and the cards' views use it, and dsr.cases.card_actions,
where it was, shows the case page again after a refused action: the page importing it from there was an
import cycle (tests/unit/test_contracts.py).
"""

from __future__ import annotations


class LazyForms(dict):
    """A page's or a card's forms by action, each made when the template first asks for it: the page of a
    closed case, or an auditor's, shows few of its three dozen forms (its own and its cards'), and each costs a
    WTForms form with its fields bound and its CSRF token (issue 15, item 3). ``makers`` maps an action to a
    function making its form; a refused form put in by its action replaces it."""

    def __init__(self, makers: dict):
        super().__init__()
        self._makers = makers

    def __contains__(self, action: object) -> bool:
        return action in self._makers

    def __missing__(self, action: str):
        made = self[action] = self._makers[action]()
        return made
