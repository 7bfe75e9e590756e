"""The erasure letter states each record's outcome in the case page's words (issue 13, item 8): "deleted",
"anonymised", "kept", "shared: kept", "failed", in the letter's language; and only what the plan records.
On SQLite and PostgreSQL with a copy of the demo systems.
"""

from __future__ import annotations

import pytest

from dsr.domain.enums import ErasureOutcome
from dsr.extensions import db
from dsr.fulfilment.models import ErasurePlan
from dsr.letters import operations
from dsr.letters.kinds import LetterKind, LetterLanguage
from tests.conftest import TODAY
from tests.integration.test_letters import _erased, _frozen_clock, pdf_text, people, systems  # noqa: F401

WORDS = {"en": {"deleted": "deleted", "kept": "kept"}, "nl": {"deleted": "verwijderd", "kept": "bewaard"},
         "fr": {"deleted": "supprimé", "kept": "conservé"}}


@pytest.mark.parametrize("lang", ["en", "nl", "fr"])
def test_the_erasure_letter_says_deleted_and_kept_as_the_case_page_does(people, systems, lang):  # noqa: F811
    case = _erased(people, systems)
    db.session.commit()
    plan = db.session.query(ErasurePlan).filter(ErasurePlan.case_id == case.id).one()
    outcomes = {i.outcome for i in plan.items if not i.is_task}
    assert ErasureOutcome.DELETED in outcomes and ErasureOutcome.KEPT in outcomes
    text = pdf_text(operations.render_letter(case, LetterKind.COMPLETION_ERASURE, LetterLanguage(lang),
                                             today=TODAY).pdf).replace("\u2010 ", "")
    for word in WORDS[lang].values():
        assert word in text, (lang, word)
