"""Erasure (GDPR Art. 17), split by step.

* :mod:`.plan`: build the plan from a confirmed lookup (one decision per record) and approve it;
* :mod:`.deciding`: read each record's facts (contracts and claims as the data map marks them) and apply
  the retention rules; a record a kept record still refers to is kept under ``referenced`` too;
* :mod:`.execute`: carry out an approved plan on the sources, one transaction per source;
* :mod:`.due`: the daily ``erase-due`` run that erases kept records once their time came;
* :mod:`.texts`: the words of outcomes that are not rules (``referenced``, a hold placed after approval);
* :mod:`.changes`: the records erased, registered with Art. 19 (:mod:`dsr.notices`).

The names below are re-exported for the views, the letters and the CLI.
"""

from dsr.fulfilment import stored_objects  # noqa: F401  (registers the hooks: files go with their rows)
from dsr.fulfilment.erasure import changes as _changes  # noqa: F401  (registers erased data with Art. 19)
from dsr.fulfilment.erasure.due import erase_due_items
from dsr.fulfilment.erasure.execute import execute_plan
from dsr.fulfilment.erasure.plan import approve_plan, build_erasure_plan
from dsr.fulfilment.erasure.texts import HELD_SINCE_APPROVAL, OUTCOME_TEXTS, REFERENCED, outcome_texts

__all__ = ["HELD_SINCE_APPROVAL", "OUTCOME_TEXTS", "REFERENCED", "approve_plan", "build_erasure_plan",
           "erase_due_items", "execute_plan", "outcome_texts"]
