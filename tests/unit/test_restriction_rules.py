"""The rules of restriction (Art. 18), pure: which grounds need a linked case, and when a restriction may be lifted."""

from __future__ import annotations

import pytest

from dsr.domain.enums import Right
from dsr.domain.restriction import GroundState, RestrictionGround, check_link, lift_blocked_by, may_lift

A, B, C, D = (RestrictionGround.ACCURACY_CONTESTED, RestrictionGround.UNLAWFUL_PROCESSING,
              RestrictionGround.LEGAL_CLAIMS, RestrictionGround.OBJECTION_PENDING)


def test_the_grounds_are_the_points_of_article_18_1():
    assert [g.letter for g in RestrictionGround] == ["a", "b", "c", "d"]
    assert Right.RESTRICTION.article == "18"
    assert (A.linked_right, B.linked_right, C.linked_right, D.linked_right) == \
        (Right.RECTIFICATION, None, None, Right.OBJECTION)


@pytest.mark.parametrize(("ground", "linked", "problem"), [
    (A, None, "link_required"),
    (A, [Right.ACCESS], "link_wrong_right"),
    (A, [Right.RESTRICTION, Right.RECTIFICATION], None),
    (D, [Right.RECTIFICATION], "link_wrong_right"),
    (D, [Right.OBJECTION], None),
    (B, None, None),
    (C, [Right.OBJECTION], "no_link_expected"),
])
def test_a_and_d_are_linked_to_the_case_whose_handling_is_the_period(ground, linked, problem):
    assert check_link(ground, linked) == problem


def test_a_restriction_under_a_or_d_holds_while_its_matter_is_undecided():
    assert lift_blocked_by([GroundState(A, linked_pending=True), GroundState(C)]) == [A]
    assert lift_blocked_by([GroundState(D, linked_pending=True)]) == [D]
    assert lift_blocked_by([GroundState(A, linked_pending=False), GroundState(B), GroundState(C)]) == []
    # (b) and (c) never end by themselves: a person decides, so they block nothing here.
    assert lift_blocked_by([GroundState(B, linked_pending=True)]) == []


def test_lifting_needs_a_ground_no_holding_ground_and_the_subject_told_beforehand():
    assert may_lift(grounds=[], notice_issued=True) == (False, "no_grounds")
    assert may_lift(grounds=[GroundState(A, linked_pending=True)], notice_issued=True) == (False, "ground_holds")
    assert may_lift(grounds=[GroundState(C)], notice_issued=False) == (False, "not_told")
    assert may_lift(grounds=[GroundState(C), GroundState(A)], notice_issued=True) == (True, None)
