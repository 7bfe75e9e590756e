"""The migrations that add the texts for the subject of lifting, Art. 22 and kept records, and of the Art. 22
reviewer and the recipients not told (issue 14, item 2).

What staff wrote before and the letters printed in the case's language (a lift's reason, an Art. 22 request's
decision, view and outcome, the reason a record is kept by the privacy manager's decision) becomes a text
for the subject in that language, as revision 4834f52216d4 did for the other purposes; the staff's record
stays as it was, and the library gets standard paragraphs for the new purposes in nl, en and fr. On SQLite
and PostgreSQL: the rows are written at the head, the revision is taken down and up again.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from dsr.automated.models import AutomatedDecisionRequest, ReviewOutcome
from dsr.domain.enums import ErasureItemKind, ErasurePlanStatus, Language, LookupStatus, Right, Role
from dsr.domain.retention import Action
from dsr.extensions import db
from dsr.fulfilment.erasure.texts import KEPT_BY_DECISION, outcome_basis
from dsr.fulfilment.models import ErasurePlan, ErasurePlanItem, Lookup
from dsr.notices.models import NoticeMethod, NoticeStatus, RecipientNotice
from dsr.restriction.models import RestrictionLift
from dsr.texts.models import StandardParagraph, SubjectText, TextPurpose
from tests.factories import make_case, make_user

BEFORE = "153285c6641a"
AT = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
NEW = (TextPurpose.RESTRICTION_LIFT, TextPurpose.AUTOMATED_DECISION, TextPurpose.AUTOMATED_VIEW,
       TextPurpose.AUTOMATED_OUTCOME, TextPurpose.ERASURE_KEPT)


def _item(plan: ErasurePlan, n: int, **kw) -> ErasurePlanItem:
    values = {"kind": ErasureItemKind.RECORD, "source": "harmony_policy_admin", "collection": "invoices",
              "primary_key": {"id": n}, "action": Action.KEEP, "rule_id": "no-rule", "basis": "x",
              "article": "GDPR Art. 17(3)", **kw}
    item = ErasurePlanItem(plan=plan, **values)
    db.session.add(item)
    return item


def test_the_texts_letters_printed_become_texts_for_the_subject_in_the_cases_language(fresh_app):
    with fresh_app.app_context():
        upgrade()
        manager = make_user(Role.PRIVACY_MANAGER)
        case = make_case(actor=manager, rights=(Right.RESTRICTION, Right.AUTOMATED_DECISION, Right.ERASURE),
                         language=Language.FR, commit=False)
        db.session.flush()
        db.session.add(RestrictionLift(case_id=case.id, reason="Le litige est clos.", decided_at=AT))
        db.session.add(AutomatedDecisionRequest(
            case_id=case.id, decision_described="Le refus de votre demande.", human_intervention=True,
            express_view=True, contest=False, subject_view="Le tuyau a éclaté.", recorded_at=AT,
            reviewer="M. de Vries", reviewed_on=date(2026, 11, 25), outcome=ReviewOutcome.CHANGED,
            outcome_text="La demande est acceptée.", view_considered=True, review_recorded_at=AT))
        lookup = Lookup(case_id=case.id, run_at=AT, identities={}, status=LookupStatus.FOUND, summary={},
                        manual_tasks={})
        db.session.add(lookup)
        db.session.flush()
        plan = ErasurePlan(case_id=case.id, lookup_id=lookup.id, status=ErasurePlanStatus.EXECUTED, built_at=AT,
                           approved_at=AT, approved_by_id=manager.id, execution_started_at=AT, executed_at=AT)
        db.session.add(plan)
        kept = _item(plan, 1, basis=outcome_basis(KEPT_BY_DECISION, reason="Litige en cours."),
                     decided_at=AT, decided_by_id=manager.id, decision_reason="Litige en cours.")
        _item(plan, 2, basis="Invoices: 7 years.", rule_id="fiscal-retention")  # a rule's: no text
        _item(plan, 3, action=Action.ERASE, decided_at=AT, decided_by_id=manager.id,
              decision_reason="The subject's own data.")
        db.session.commit()
        case_id, kept_id = case.id, kept.id
        db.session.rollback()  # the migrations alter the tables read just now: no transaction of ours may hold them

        downgrade(revision=BEFORE)  # takes the new purposes' texts and paragraphs away
        upgrade(revision="3372ffbb0c5d")
        db.session.expire_all()
        texts = {(t.purpose, t.item_id, t.language): t.body
                 for t in db.session.scalars(sa.select(SubjectText).where(SubjectText.case_id == case_id))}
        assert texts == {
            (TextPurpose.RESTRICTION_LIFT, 0, "fr"): "Le litige est clos.",
            (TextPurpose.AUTOMATED_DECISION, 0, "fr"): "Le refus de votre demande.",
            (TextPurpose.AUTOMATED_VIEW, 0, "fr"): "Le tuyau a éclaté.",
            (TextPurpose.AUTOMATED_OUTCOME, 0, "fr"): "La demande est acceptée.",
            (TextPurpose.ERASURE_KEPT, kept_id, "fr"): "Litige en cours.",
        }
        assert db.session.get(RestrictionLift, 1).reason == "Le litige est clos."  # the staff's record stays
        library = {(p.purpose, p.language) for p in db.session.scalars(sa.select(StandardParagraph))}
        assert {(purpose, lang) for purpose in NEW for lang in ("nl", "en", "fr")} <= library


def test_the_reviewer_and_the_reason_a_recipient_was_not_told_become_texts_for_the_subject(fresh_app):
    """Revision 7c1d2e3f4a5b: what the letters printed as typed (the reviewer with their function, the reason
    a recipient was not told) becomes a text in the case's language; the staff's record stays; the library
    gets paragraphs for both purposes in nl, en and fr; taken down, they are gone."""
    with fresh_app.app_context():
        upgrade()
        manager = make_user(Role.PRIVACY_MANAGER)
        case = make_case(actor=manager, rights=(Right.AUTOMATED_DECISION, Right.ERASURE), language=Language.NL,
                         commit=False)
        pending = make_case(actor=manager, rights=(Right.AUTOMATED_DECISION,), language=Language.NL, commit=False)
        db.session.flush()
        db.session.add(AutomatedDecisionRequest(
            case_id=case.id, decision_described="Afwijzing.", human_intervention=True, express_view=False,
            contest=False, subject_view="", recorded_at=AT, reviewer="M. de Vries, senior claims handler",
            reviewed_on=date(2026, 11, 25), outcome=ReviewOutcome.UPHELD, outcome_text="Blijft.",
            review_recorded_at=AT))
        db.session.add(AutomatedDecisionRequest(  # not reviewed yet: nothing to copy
            case_id=pending.id, decision_described="Afwijzing.", human_intervention=True, express_view=False,
            contest=False, subject_view="", recorded_at=AT))
        gone = RecipientNotice(case_id=case.id, recipient_id="mail_house", status=NoticeStatus.NOT_NOTIFIABLE,
                               listed_at=AT, reason="Went bankrupt in 2025, no successor.", decided_at=AT,
                               decided_by_id=manager.id)
        told = RecipientNotice(case_id=case.id, recipient_id="reinsurer", status=NoticeStatus.NOTIFIED,
                               listed_at=AT, notified_on=date(2026, 11, 25), method=NoticeMethod.EMAIL,
                               note="By e-mail to the privacy desk.", decided_at=AT, decided_by_id=manager.id)
        db.session.add_all([gone, told])
        db.session.commit()
        case_id, gone_id = case.id, gone.id
        db.session.rollback()  # the migrations alter the tables read just now: no transaction of ours may hold them

        downgrade(revision="3372ffbb0c5d")
        assert not db.session.scalars(sa.select(SubjectText).where(SubjectText.purpose.in_(
            ["automated_reviewer", "notice_not_made"]))).all()
        db.session.rollback()  # the migration alters the table: no transaction of ours may still read it
        upgrade()
        db.session.expire_all()
        texts = {(t.purpose, t.item_id, t.language): t.body
                 for t in db.session.scalars(sa.select(SubjectText).where(SubjectText.purpose.in_(
                     [TextPurpose.AUTOMATED_REVIEWER, TextPurpose.NOTICE_NOT_MADE])))}
        assert texts == {
            (TextPurpose.AUTOMATED_REVIEWER, 0, "nl"): "M. de Vries, senior claims handler",
            (TextPurpose.NOTICE_NOT_MADE, gone_id, "nl"): "Went bankrupt in 2025, no successor.",
        }
        assert {t.case_id for t in db.session.scalars(sa.select(SubjectText))} == {case_id}
        assert db.session.get(RecipientNotice, gone_id).reason == "Went bankrupt in 2025, no successor."
        library = {(p.purpose, p.language) for p in db.session.scalars(sa.select(StandardParagraph))}
        assert {(purpose, lang) for purpose in (TextPurpose.AUTOMATED_REVIEWER, TextPurpose.NOTICE_NOT_MADE)
                for lang in ("nl", "en", "fr")} <= library
