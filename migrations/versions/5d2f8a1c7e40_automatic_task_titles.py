"""automatic task titles in the reader's language

A task dsr creates keeps its kind and parameters (``case_tasks.kind``, ``case_tasks.params``), so that pages
write its title in the reader's language (issue 16, item 9). Existing automatic tasks, whose titles were
stored in the language of whoever triggered them, are read back into kind and parameters; typed titles stay
as typed (no kind). The stored title becomes the English one.

Revision ID: 5d2f8a1c7e40
Revises: 19bd528986ff
Create Date: 2026-12-06 12:55:00.000000

"""
import re

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5d2f8a1c7e40'
down_revision = '19bd528986ff'
branch_labels = None
depends_on = None

# The data map's built-in manual sources by the name their tasks were titled with (other sources keep their
# name in place of a key; the page then shows the name as stored).
_SOURCE_KEYS = {"Paper archive": "harmony_paper_archive", "Focus Feedback (processor)": "focus_feedback"}
# The titles dsr wrote, in each interface language it was written in.
_MANUAL = re.compile(r"^(?:Check|Controleer|Vérifier) (?P<name>.+?) ?: (?P<instructions>.*)$", re.S)
_CORRECTION = [re.compile(p, re.S) for p in (
    r"^Correct (?P<field>\S+) in (?P<source>.+) \((?P<collection>[^()]+)\) as listed under Rectification",
    r"^Corrigeer (?P<field>\S+) in (?P<source>.+) \((?P<collection>[^()]+)\) zoals vermeld onder Rectificatie",
    r"^Rectifier (?P<field>\S+) dans (?P<source>.+) \((?P<collection>[^()]+)\) comme indiqué sous Rectification")]
_EFFECTS = {"stop this processing for this person": "stop",
            "erase this person's records of this processing (Art. 17(1)(c))": "erase",
            "restrict this person's records of this processing: keep, do not use (Art. 18)": "restrict"}
_OBJECTION = re.compile(r"^Objection upheld: (?P<effect>.+?): (?P<name>.+)$", re.S)

_ENGLISH = {
    "manual_source": "Check {name}: {instructions}",
    "manual_correction": "Correct {field} in {source} ({collection}) as listed under Rectification, then mark it "
                         "applied there",
    "objection_upheld": "Objection upheld: {effect}: {name}",
}


def _fit(title):
    return title if len(title) <= 300 else title[:299].rstrip() + "…"


def _read_back(conn, case_id, title):
    """(kind, params, English title) of an automatic task's title, or None for a typed one."""
    for pattern in _CORRECTION:
        m = pattern.match(title)
        if m:
            source = m["source"]
            params = {"source": _SOURCE_KEYS.get(source, source), "collection": m["collection"], "field": m["field"]}
            return "manual_correction", params, _ENGLISH["manual_correction"].format(
                field=m["field"], source=source, collection=m["collection"])
    m = _OBJECTION.match(title)
    if m and m["effect"] in _EFFECTS:
        processing = conn.execute(sa.text(
            "SELECT processing FROM objection_decisions WHERE case_id = :c AND processing_name = :n "
            "ORDER BY id DESC"), {"c": case_id, "n": m["name"]}).scalar()
        params = {"effect": _EFFECTS[m["effect"]], "processing": processing or "", "name": m["name"]}
        return "objection_upheld", params, title
    m = _MANUAL.match(title)
    if m and m["name"] in _SOURCE_KEYS:
        params = {"source": _SOURCE_KEYS[m["name"]], "name": m["name"], "instructions": m["instructions"]}
        return "manual_source", params, _ENGLISH["manual_source"].format(**params)
    return None


def upgrade():
    with op.batch_alter_table('case_tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('params', sa.JSON(none_as_null=True), nullable=True))
        batch_op.create_check_constraint(op.f('ck_case_tasks_kind_with_params'), "(kind IS NULL) = (params IS NULL)")

    conn = op.get_bind()
    # Recognised by the shape of the titles dsr wrote; a manual source's task only when it names a built-in
    # source (a typed "Check ...: ..." stays as typed).
    rows = conn.execute(sa.text("SELECT id, case_id, title FROM case_tasks")).all()
    for task_id, case_id, title in rows:
        found = _read_back(conn, case_id, title)
        if found is None:
            continue
        kind, params, english = found
        update = sa.text("UPDATE case_tasks SET kind = :k, params = :p, title = :t WHERE id = :i").bindparams(
            sa.bindparam("p", type_=sa.JSON))
        conn.execute(update, {"k": kind, "p": params, "t": _fit(english), "i": task_id})


def downgrade():
    with op.batch_alter_table('case_tasks', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_case_tasks_kind_with_params'), type_='check')
        batch_op.drop_column('params')
        batch_op.drop_column('kind')
