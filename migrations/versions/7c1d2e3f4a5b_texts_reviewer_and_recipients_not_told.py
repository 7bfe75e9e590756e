"""texts for the subject: the Art. 22 reviewer and the recipients not told (issue 14, item 2)

Two more purposes of a text for the subject: the reviewer of an automated decision as the letter names them,
with their function in the letter's language (Art. 22(3)), and why a recipient was not told of a change
(Art. 19, one per notice). The CHECK constraint of the purpose column of both tables takes them (the column
stays VARCHAR(19)).

As revisions 4834f52216d4 and 3372ffbb0c5d did, what the letters printed so far (the reviewer and the
not-notifiable reason as staff typed them) becomes a text for the subject in the case's language, and stays
the staff's record it was. Neutral standard paragraphs in nl, en and fr join the privacy managers' library.

Revision ID: 7c1d2e3f4a5b
Revises: 3372ffbb0c5d
Create Date: 2026-12-06 19:10:00.000000

"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7c1d2e3f4a5b'
down_revision = '3372ffbb0c5d'
branch_labels = None
depends_on = None

PURPOSES = ("'refusal', 'partial_refusal', 'extension', 'information_request', 'correction_refusal', "
            "'objection_outcome', 'fee_basis', 'restriction_lift', 'automated_decision', 'automated_view', "
            "'automated_outcome', 'erasure_kept'")
NEW_PURPOSES = "'automated_reviewer', 'notice_not_made'"
TABLES = ('subject_texts', 'standard_paragraphs')
_SEEDED = datetime(2026, 12, 6, 19, 10, tzinfo=timezone.utc)


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
    "automated_reviewer": ("SELECT r.case_id, 0, c.language, r.reviewer FROM automated_decision_requests r "
                           "JOIN cases c ON c.id = r.case_id WHERE r.outcome IS NOT NULL AND r.reviewer IS NOT NULL"),
    "notice_not_made": ("SELECT n.case_id, n.id, c.language, n.reason FROM recipient_notices n "
                        "JOIN cases c ON c.id = n.case_id WHERE n.status = 'not_notifiable'"),
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
    ("automated_reviewer", "en", "Senior claims handler",
     "a senior claims handler of our claims department who was not involved in the original decision"),
    ("automated_reviewer", "nl", "Senior schadebehandelaar",
     "een senior schadebehandelaar van onze schadeafdeling die niet bij het oorspronkelijke besluit betrokken was"),
    ("automated_reviewer", "fr", "Gestionnaire de sinistres senior",
     "un gestionnaire de sinistres senior de notre service sinistres, qui n'a pas participé à la décision "
     "initiale"),
    ("notice_not_made", "en", "Recipient no longer exists",
     "This company no longer exists, so there is no one to tell."),
    ("notice_not_made", "nl", "Ontvanger bestaat niet meer",
     "Dit bedrijf bestaat niet meer; er is dus niemand meer die wij kunnen informeren."),
    ("notice_not_made", "fr", "Le destinataire n'existe plus",
     "Cette entreprise n'existe plus : il n'y a donc plus personne à informer."),
]
