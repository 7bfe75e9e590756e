"""Restriction of processing (GDPR Art. 18): its grounds and the rules that say when it may end.

Pure: no Flask, no database. The feature (:mod:`dsr.restriction`) records which grounds the subject invokes,
restricts the records, and lifts the restriction; the rules it follows are here.

Art. 18(1): the subject may obtain restriction where

* (a) the accuracy of the data is contested, "for a period enabling the controller to verify the accuracy":
  the period is the handling of a rectification (Art. 16), so the ground is linked to a case that asks for
  it and holds while any of its corrections is undecided;
* (b) the processing is unlawful and the subject opposes erasure and asks for restriction instead;
* (c) the controller no longer needs the data, but the subject needs them for a legal claim;
* (d) the subject objected (Art. 21(1)) "pending the verification whether the legitimate grounds of the
  controller override": the ground is linked to a case with that objection and holds while it is undecided.

Restricted data is only stored (18(2)); the subject is told before a restriction is lifted (18(3)).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from dsr.domain.enums import Right


class RestrictionGround(enum.StrEnum):
    ACCURACY_CONTESTED = "accuracy_contested"  # 18(1)(a)
    UNLAWFUL_PROCESSING = "unlawful_processing"  # 18(1)(b)
    LEGAL_CLAIMS = "legal_claims"  # 18(1)(c)
    OBJECTION_PENDING = "objection_pending"  # 18(1)(d)

    @property
    def letter(self) -> str:
        """The point of Art. 18(1): ``a`` to ``d``."""
        return {RestrictionGround.ACCURACY_CONTESTED: "a", RestrictionGround.UNLAWFUL_PROCESSING: "b",
                RestrictionGround.LEGAL_CLAIMS: "c", RestrictionGround.OBJECTION_PENDING: "d"}[self]

    @property
    def linked_right(self) -> Right | None:
        """The right of the case whose handling is the period of the restriction: a rectification for (a),
        an objection for (d); (b) and (c) stand on their own."""
        return {RestrictionGround.ACCURACY_CONTESTED: Right.RECTIFICATION,
                RestrictionGround.OBJECTION_PENDING: Right.OBJECTION}.get(self)


@dataclass(frozen=True)
class GroundState:
    """One recorded ground as the lifting rule needs it: for (a) and (d), whether the linked matter (the
    rectification's corrections, the objection's balancing) is still undecided."""

    ground: RestrictionGround
    linked_pending: bool = False


def check_link(ground: RestrictionGround, linked_rights: Iterable[Right] | None) -> str | None:
    """Why ``ground`` cannot be recorded with a linked case invoking ``linked_rights`` (None: no linked
    case), or None when it can. (a) and (d) need a linked case with their right; (b) and (c) take none."""
    needed = ground.linked_right
    if needed is None:
        return "no_link_expected" if linked_rights is not None else None
    if linked_rights is None:
        return "link_required"
    if needed not in set(linked_rights):
        return "link_wrong_right"
    return None


def holding_grounds(grounds: Iterable[GroundState]) -> list[RestrictionGround]:
    """The grounds that still require the restriction: an (a) or (d) ground while its linked matter is
    undecided. (b) and (c) depend on the subject's situation, which a person judges, so they never end by
    themselves and are not counted here."""
    return [g.ground for g in grounds if g.ground.linked_right is not None and g.linked_pending]


def lift_blocked_by(grounds: Iterable[GroundState]) -> list[RestrictionGround]:
    """The grounds that forbid lifting now: a restriction for the time needed to verify accuracy (a) or to
    balance an objection (d) stays while that verification or balancing is undecided. Lifting under (b)
    and (c) is a person's decision, stated to the subject beforehand (18(3))."""
    return holding_grounds(grounds)


def may_lift(*, grounds: Iterable[GroundState], notice_issued: bool) -> tuple[bool, str | None]:
    """Whether a restriction may be lifted now, and why not: the subject must have been told beforehand
    (18(3)) and no (a)/(d) ground may still hold."""
    grounds = list(grounds)
    if not grounds:
        return False, "no_grounds"
    if lift_blocked_by(grounds):
        return False, "ground_holds"
    if not notice_issued:
        return False, "not_told"
    return True, None
