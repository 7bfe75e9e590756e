"""Texts for the subject on a case, and the library of standard paragraphs (issue 14, item 2).

* ``GET /cases/<ref>/texts`` (every role): what the case's letters may quote, with the staff note beside
  each (internal, never printed) and the text for the subject per language. ``?use=<paragraph>&slot=<key>``
  pre-fills that slot's textarea with a standard paragraph to adapt (nothing is saved until it is posted).
* ``POST /cases/<ref>/texts`` (staff, manager; CSRF): save one text (an empty text removes it).
* ``GET /texts/library`` (every role); ``POST /texts/library`` and ``POST /texts/library/<id>/remove``
  (privacy managers only; CSRF): the standard paragraphs per purpose and language.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from dsr.auth.access import MANAGERS, READERS, WRITERS, reads_only, roles_required
from dsr.cases.errors import CaseError, NotAllowed
from dsr.cases.queries import case_or_404
from dsr.extensions import db
from dsr.texts import operations as ops
from dsr.texts.models import BODY_MAX, TEXT_LANGUAGES, StandardParagraph, TextPurpose
from dsr.timeutil import now

bp = Blueprint("texts", __name__)


class SubjectTextForm(FlaskForm):
    slot = HiddenField(validators=[DataRequired()])
    language = HiddenField(validators=[DataRequired()])
    body = TextAreaField(_l("Text for the subject"), validators=[Optional(), Length(max=BODY_MAX)])
    submit = SubmitField(_l("Save"))


class ParagraphForm(FlaskForm):
    paragraph_id = HiddenField()
    purpose = SelectField(_l("Purpose"), choices=[(p.value, label) for p, label in ops.PURPOSE_LABELS.items()])
    language = SelectField(_l("Language"), choices=[(lang, ops.LANGUAGE_NAMES[lang]) for lang in TEXT_LANGUAGES])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=ops.TITLE_MAX)])
    body = TextAreaField(_l("Paragraph"), validators=[DataRequired(), Length(max=BODY_MAX)])
    submit = SubmitField(_l("Save the paragraph"))


class RemoveForm(FlaskForm):
    submit = SubmitField(_l("Remove"))


def _slot_key(value: str) -> tuple[TextPurpose, int]:
    purpose, _sep, item = (value or "").rpartition("-")
    try:
        return ops.parse_purpose(purpose), int(item)
    except (CaseError, ValueError):
        abort(400)


def _page(case, *, error_slot=None, error_language=None, error=None, typed=None, status=200):
    slots = ops.slots(case)
    library = {}
    for p in ops.paragraphs():
        library.setdefault((p.purpose, p.language), []).append(p)
    drafts: dict[tuple[str, str], str] = {}
    use = request.args.get("use", type=int)
    if use is not None and request.args.get("slot"):
        chosen = db.session.get(StandardParagraph, use)
        if chosen is not None:
            drafts[(request.args["slot"], chosen.language)] = chosen.body
    if typed is not None:
        drafts[(error_slot, error_language)] = typed
    return render_template("texts/case.html", case=case, slots=slots, library=library, drafts=drafts,
                           languages=TEXT_LANGUAGES, language_names=ops.LANGUAGE_NAMES, form=SubjectTextForm(),
                           error=error, error_slot=error_slot, error_language=error_language,
                           can_write=current_user.can_write), status


@bp.get("/cases/<reference>/texts")
@reads_only
@roles_required(*READERS)
def case_texts(reference: str):
    return _page(case_or_404(reference))


@bp.post("/cases/<reference>/texts")
@roles_required(*WRITERS)
def save(reference: str):
    case = case_or_404(reference)
    form = SubjectTextForm()
    if not form.validate_on_submit():
        return _page(case, error=" ".join(e for errs in form.errors.values() for e in errs), status=400)
    purpose, item_id = _slot_key(form.slot.data)
    try:
        saved = ops.save_text(case, purpose, item_id, form.language.data, form.body.data,
                              actor=current_user._get_current_object(), now=now())
        db.session.commit()
    except NotAllowed:
        db.session.rollback()
        abort(403)
    except CaseError as exc:
        db.session.rollback()
        return _page(case, error=str(exc), error_slot=form.slot.data, error_language=form.language.data,
                     typed=form.body.data, status=exc.status)
    flash(_("The text for the subject was saved.") if saved is not None
          else _("The text for the subject was removed."), "success")
    return redirect(url_for("texts.case_texts", reference=reference, _anchor=f"text-{form.slot.data}"), code=303)


@bp.route("/texts/library", methods=["GET", "POST"])
@roles_required(*READERS)
def library():
    form = ParagraphForm()
    status = 200
    editing = None
    if request.method == "GET" and request.args.get("edit", type=int):
        editing = db.session.get(StandardParagraph, request.args.get("edit", type=int))
        if editing is None:
            abort(404)
        form = ParagraphForm(formdata=None, obj=editing, paragraph_id=editing.id)
        form.purpose.data = editing.purpose.value
    if form.is_submitted():
        if not current_user.is_manager:
            abort(403)
        if form.validate():
            paragraph = None
            if form.paragraph_id.data:
                paragraph = db.session.get(StandardParagraph, int(form.paragraph_id.data)) \
                    if form.paragraph_id.data.isdigit() else None
                if paragraph is None:
                    abort(404)
            try:
                ops.save_paragraph(paragraph, purpose=ops.parse_purpose(form.purpose.data),
                                   language=form.language.data, title=form.title.data, body=form.body.data,
                                   actor=current_user._get_current_object(), now=now())
                db.session.commit()
            except NotAllowed:
                db.session.rollback()
                abort(403)
            except CaseError as exc:
                db.session.rollback()
                getattr(form, getattr(exc, "field", None) or "title", form.title).errors = [str(exc)]
                status = exc.status
            else:
                flash(_("The paragraph “%(title)s” was saved.", title=form.title.data.strip()), "success")
                return redirect(url_for("texts.library"), code=303)
        else:
            status = 400
    return render_template("texts/library.html", form=form, remove=RemoveForm(), paragraphs=ops.paragraphs(),
                           purpose_labels=ops.PURPOSE_LABELS, language_names=ops.LANGUAGE_NAMES,
                           editing=editing), status


@bp.post("/texts/library/<int:paragraph_id>/remove")
@roles_required(*MANAGERS)
def remove(paragraph_id: int):
    if not RemoveForm().validate_on_submit():
        abort(400)
    paragraph = db.session.get(StandardParagraph, paragraph_id)
    if paragraph is None:
        abort(404)
    title = paragraph.title
    ops.remove_paragraph(paragraph, actor=current_user._get_current_object(), now=now())
    db.session.commit()
    flash(_("The paragraph “%(title)s” was removed.", title=title), "success")
    return redirect(url_for("texts.library"), code=303)
