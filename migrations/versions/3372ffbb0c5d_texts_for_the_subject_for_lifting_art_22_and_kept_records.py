"""texts for the subject: lifting a restriction, Art. 22 letters, records kept by decision (issue 14, item 2)

Five more purposes of a text for the subject: why a restriction is lifted (Art. 18(3)); the automated
decision a request is about, the subject's view of it and the outcome of its review (Art. 22(3)); why the
privacy manager keeps a record the subject asked to erase (one per erasure plan item). The CHECK constraint
of the purpose column of both tables takes them (the column stays VARCHAR(19)).

As the revision that introduced texts for the subject did (4834f52216d4), what staff wrote so far and the
letters printed in the case's language becomes a text for the subject in that language, and stays the
staff's record it was: each lift's reason, each Art. 22 request's decision described, view expressed and
review outcome, each kept-by-decision item's reason. Neutral standard paragraphs in nl, en and fr join the
privacy managers' library for the new purposes.

Revision ID: 3372ffbb0c5d
Revises: 153285c6641a
Create Date: 2026-12-06 16:20:00.000000

"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3372ffbb0c5d'
down_revision = '153285c6641a'
branch_labels = None
depends_on = None

PURPOSES = ("'refusal', 'partial_refusal', 'extension', 'information_request', 'correction_refusal', "
            "'objection_outcome', 'fee_basis'")
NEW_PURPOSES = "'restriction_lift', 'automated_decision', 'automated_view', 'automated_outcome', 'erasure_kept'"
TABLES = ('subject_texts', 'standard_paragraphs')
_SEEDED = datetime(2026, 12, 6, 16, 20, tzinfo=timezone.utc)


def _purposes(allowed: str) -> None:
    # SQLite cannot alter a CHECK constraint: batch mode copies the table (as earlier revisions did).
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f'ck_{table}_text_purpose'), type_='check')
            batch_op.create_check_constraint(op.f(f'ck_{table}_text_purpose'), f"purpose IN ({allowed})")


def upgrade():
    _purposes(f"{PURPOSES}, {NEW_PURPOSES}")
    _copy_existing_texts()
    op.bulk_insert(_paragraphs, [{"purpose": p, "language": lang, "title": t, "body": b, "updated_at": _SEEDED}
                                 for p, lang, t, b in PARAGRAPHS])


def downgrade():
    for table in TABLES:
        op.execute(sa.text(f"DELETE FROM {table} WHERE purpose IN ({NEW_PURPOSES})"))
    _purposes(PURPOSES)


_texts = sa.table('subject_texts', sa.column('case_id', sa.Integer), sa.column('purpose', sa.String),
                  sa.column('item_id', sa.Integer), sa.column('language', sa.String), sa.column('body', sa.Text),
                  sa.column('author_id', sa.Integer), sa.column('updated_at', sa.DateTime(timezone=True)))
_paragraphs = sa.table('standard_paragraphs', sa.column('purpose', sa.String), sa.column('language', sa.String),
                       sa.column('title', sa.String), sa.column('body', sa.Text),
                       sa.column('updated_at', sa.DateTime(timezone=True)))

# purpose: the query giving case_id, item_id, the case's language, the text the letters printed so far
_EXISTING = {
    "restriction_lift": ("SELECT l.case_id, 0, c.language, l.reason FROM restriction_lifts l "
                         "JOIN cases c ON c.id = l.case_id"),
    "automated_decision": ("SELECT r.case_id, 0, c.language, r.decision_described FROM automated_decision_requests r "
                           "JOIN cases c ON c.id = r.case_id"),
    "automated_view": ("SELECT r.case_id, 0, c.language, r.subject_view FROM automated_decision_requests r "
                       "JOIN cases c ON c.id = r.case_id WHERE r.express_view"),
    "automated_outcome": ("SELECT r.case_id, 0, c.language, r.outcome_text FROM automated_decision_requests r "
                          "JOIN cases c ON c.id = r.case_id WHERE r.outcome_text IS NOT NULL"),
    # A record kept by the privacy manager's decision (dsr.fulfilment.erasure.plan.decide_item): the basis the
    # letters printed was "Kept by the privacy manager's decision: {reason}".
    "erasure_kept": ("SELECT p.case_id, i.id, c.language, i.decision_reason FROM erasure_plan_items i "
                     "JOIN erasure_plans p ON p.id = i.plan_id JOIN cases c ON c.id = p.case_id "
                     "WHERE i.action = 'keep' AND i.decided_at IS NOT NULL AND i.decision_reason IS NOT NULL "
                     "AND i.basis LIKE 'Kept by the privacy manager''s decision: %'"),
}


def _copy_existing_texts():
    bind = op.get_bind()
    rows = []
    for purpose, query in _EXISTING.items():
        for case_id, item_id, language, body in bind.execute(sa.text(query)):
            if body and body.strip() and language in ("nl", "en", "fr"):
                rows.append({"case_id": case_id, "purpose": purpose, "item_id": item_id, "language": language,
                             "body": body.strip(), "author_id": None, "updated_at": _SEEDED})
    if rows:
        op.bulk_insert(_texts, rows)


PARAGRAPHS = [
    ("restriction_lift", "en", "Accuracy verified",
     "We have checked the data whose accuracy you contested and found them to be accurate. The restriction "
     "was meant to last while we checked them."),
    ("restriction_lift", "nl", "Juistheid gecontroleerd",
     "Wij hebben de gegevens waarvan u de juistheid betwistte gecontroleerd en juist bevonden. De beperking "
     "gold zolang wij die controle uitvoerden."),
    ("restriction_lift", "fr", "Exactitude vérifiée",
     "Nous avons vérifié les données dont vous contestiez l'exactitude et les avons trouvées exactes. La "
     "limitation devait durer le temps de cette vérification."),
    ("restriction_lift", "en", "Legal claim ended",
     "You asked us to keep the data for a legal claim. That claim has ended, so the reason for the restriction "
     "no longer applies."),
    ("restriction_lift", "nl", "Rechtsvordering beëindigd",
     "U vroeg ons de gegevens te bewaren voor een rechtsvordering. Die is beëindigd, zodat de reden voor de "
     "beperking is vervallen."),
    ("restriction_lift", "fr", "Action en justice terminée",
     "Vous nous avez demandé de conserver les données pour une action en justice. Cette action est terminée : "
     "le motif de la limitation n'existe plus."),
    ("automated_decision", "en", "Claim assessed online",
     "The decision on your claim that our online claims check took when you reported the claim."),
    ("automated_decision", "nl", "Schade online beoordeeld",
     "Het besluit over uw schademelding dat onze online schadecheck nam toen u de schade meldde."),
    ("automated_decision", "fr", "Sinistre évalué en ligne",
     "La décision sur votre sinistre prise par notre contrôle en ligne des sinistres lors de votre déclaration."),
    ("automated_view", "en", "Circumstances not taken into account",
     "You told us that the decision did not take your personal circumstances into account."),
    ("automated_view", "nl", "Omstandigheden niet meegewogen",
     "U liet ons weten dat bij het besluit geen rekening is gehouden met uw persoonlijke omstandigheden."),
    ("automated_view", "fr", "Circonstances non prises en compte",
     "Vous nous avez indiqué que la décision ne tenait pas compte de votre situation personnelle."),
    ("automated_outcome", "en", "Decision stands",
     "The reviewer looked at all the information about your case, including what you told us, and came to the "
     "same decision."),
    ("automated_outcome", "nl", "Besluit blijft",
     "De beoordelaar heeft alle gegevens over uw zaak bekeken, ook wat u ons liet weten, en kwam tot hetzelfde "
     "besluit."),
    ("automated_outcome", "fr", "La décision est maintenue",
     "La personne chargée du réexamen a étudié toutes les informations de votre dossier, y compris ce que vous "
     "nous avez indiqué, et est parvenue à la même décision."),
    ("automated_outcome", "en", "Decision changed",
     "The reviewer looked at all the information about your case, including what you told us, and changed the "
     "decision in your favour."),
    ("automated_outcome", "nl", "Besluit gewijzigd",
     "De beoordelaar heeft alle gegevens over uw zaak bekeken, ook wat u ons liet weten, en het besluit in uw "
     "voordeel gewijzigd."),
    ("automated_outcome", "fr", "La décision est modifiée",
     "La personne chargée du réexamen a étudié toutes les informations de votre dossier, y compris ce que vous "
     "nous avez indiqué, et a modifié la décision en votre faveur."),
    ("erasure_kept", "en", "Needed for a claim still open",
     "This record belongs to a claim that has not yet been settled; we need it to settle the claim."),
    ("erasure_kept", "nl", "Nodig voor een lopende schade",
     "Dit gegeven hoort bij een schademelding die nog niet is afgehandeld; wij hebben het nodig om die af te "
     "handelen."),
    ("erasure_kept", "fr", "Nécessaire pour un sinistre en cours",
     "Cette donnée concerne un sinistre qui n'est pas encore réglé ; nous en avons besoin pour le régler."),
    ("erasure_kept", "en", "Also another person's data",
     "This record also holds another person's data, which we may not erase. We therefore keep the record."),
    ("erasure_kept", "nl", "Ook gegevens van een ander",
     "Dit gegeven bevat ook gegevens van iemand anders, die wij niet mogen wissen. Daarom bewaren wij het."),
    ("erasure_kept", "fr", "Données d'une autre personne aussi",
     "Cet enregistrement contient aussi les données d'une autre personne, que nous ne pouvons pas effacer. "
     "Nous le conservons donc."),
]
