"""Small forms for the actions on a case page. Each carries the case version it was rendered with."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from dsr.domain.enums import (
    AttachmentKind,
    LinkKind,
    Priority,
    RefusalGround,
    VerificationMethod,
    VerificationOutcome,
)
from dsr.texts.picker import subject_text_area

REFUSAL_LABELS = {
    RefusalGround.MANIFESTLY_UNFOUNDED: _l("Manifestly unfounded (Art. 12(5))"),
    RefusalGround.EXCESSIVE: _l("Excessive, in particular repetitive (Art. 12(5))"),
    RefusalGround.IDENTITY_NOT_ESTABLISHED: _l("Identity not established (Art. 11(2), 12(2))"),
}
METHOD_LABELS = {
    VerificationMethod.POLICY_RECORDS: _l("Matched against policy records"),
    VerificationMethod.AUTHENTICATED_CHANNEL: _l("Came through an authenticated channel"),
    VerificationMethod.ADDITIONAL_INFORMATION: _l("Additional information provided"),
    VerificationMethod.ID_DOCUMENT_SEEN: _l("ID document seen"),
}
OUTCOME_LABELS = {VerificationOutcome.VERIFIED: _l("Identity verified"),
                  VerificationOutcome.NOT_VERIFIED: _l("Not verified")}
PRIORITY_LABELS = {Priority.LOW: _l("low"), Priority.NORMAL: _l("normal"), Priority.HIGH: _l("high")}
KIND_LABELS = {AttachmentKind.LETTER: _l("Letter from the subject"),
               AttachmentKind.CORRESPONDENCE: _l("Other correspondence"),
               AttachmentKind.ID_DOCUMENT: _l("Copy of an ID document (destroyed after the check)"),
               AttachmentKind.OTHER: _l("Other")}
LINK_LABELS = {LinkKind.DUPLICATE: _l("duplicate"), LinkKind.RELATED: _l("related")}


def _choices(labels) -> list[tuple[str, str]]:
    return [(k.value, v) for k, v in labels.items()]


class CaseActionForm(FlaskForm):
    version = IntegerField(validators=[InputRequired()])
    last_event = HiddenField()


class TransitionForm(CaseActionForm):
    pass


class AssignForm(CaseActionForm):
    # Starts empty and must be chosen: an untouched form never unassigns (that is its own action).
    assignee = SelectField(_l("Assign to"), choices=[], validate_choice=False,
                           validators=[DataRequired(_l("Choose who to assign the case to."))])


class PriorityForm(CaseActionForm):
    priority = SelectField(_l("Priority"), choices=_choices(PRIORITY_LABELS))


class SendBackForm(CaseActionForm):
    reason = TextAreaField(_l("Why it goes back"), validators=[DataRequired(), Length(max=2000)])


class CompleteForm(CaseActionForm):
    decision = TextAreaField(_l("What was done for the subject"), validators=[DataRequired(), Length(max=5000)])
    override_reason = TextAreaField(_l("Complete anyway, because (only when the checklist is not met)"),
                                    validators=[Optional(), Length(max=2000)])


class RefuseForm(CaseActionForm):
    ground = SelectField(_l("Ground"), choices=_choices(REFUSAL_LABELS))
    justification = TextAreaField(_l("Written justification (staff note, internal)"),
                                  validators=[DataRequired(), Length(max=5000)])
    subject_text = subject_text_area()
    # Excessive: the person's earlier requests this one repeats (references; the page offers the person's cases).
    repeats = SelectMultipleField(_l("The earlier requests it repeats"), choices=[], validate_choice=False)


class WithdrawForm(CaseActionForm):
    how = StringField(_l("How the subject withdrew"), validators=[DataRequired(), Length(max=500)])


class VerifyForm(CaseActionForm):
    # No defaults: recording a verification nobody made must take a deliberate choice.
    method = SelectField(_l("Method"), choices=[("", "—")] + _choices(METHOD_LABELS),
                         validators=[DataRequired(_l("Choose how the identity was checked."))])
    outcome = SelectField(_l("Outcome"), choices=[("", "—")] + _choices(OUTCOME_LABELS),
                          validators=[DataRequired(_l("Choose the outcome of the check."))])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=1000)])


class ConfirmIdForm(CaseActionForm):
    attachment_id = IntegerField(validators=[InputRequired()])
    outcome = SelectField(_l("Outcome"), choices=[("", _l("Outcome of the check…"))] + _choices(OUTCOME_LABELS),
                          validators=[DataRequired(_l("Choose the outcome of the check."))])


class PauseForm(CaseActionForm):
    reason = StringField(_l("Information asked for (staff note, internal)"),
                         validators=[DataRequired(), Length(max=1000)])
    subject_text = subject_text_area()
    requested_on = DateField(_l("Asked on"), validators=[DataRequired()])


class ResumeForm(CaseActionForm):
    received_on = DateField(_l("Information arrived on"), validators=[DataRequired()])


class ExtendForm(CaseActionForm):
    reason = TextAreaField(_l("Reason: complexity or number of requests (staff note, internal)"),
                           validators=[DataRequired(), Length(max=2000)])
    subject_text = subject_text_area()


class NoticeForm(CaseActionForm):
    sent_on = DateField(_l("Notice sent on"), validators=[DataRequired()])


class NoteForm(CaseActionForm):
    body = TextAreaField(_l("Note"), validators=[DataRequired(), Length(max=5000)])


class TaskForm(CaseActionForm):
    title = StringField(_l("Task"), validators=[DataRequired(), Length(max=300)])
    assignee = SelectField(_l("For"), choices=[], validate_choice=False)
    due_on = DateField(_l("Due on"), validators=[Optional()])


class TaskDoneForm(CaseActionForm):
    task_id = IntegerField(validators=[InputRequired()])


class LinkForm(CaseActionForm):
    other = StringField(_l("Other case reference"), validators=[DataRequired(), Length(max=20)])
    kind = SelectField(_l("Kind"), choices=_choices(LINK_LABELS))


class MergeForm(CaseActionForm):
    target = StringField(_l("Merge into case"), validators=[DataRequired(), Length(max=20)])


class UploadForm(CaseActionForm):
    file = FileField(_l("File (PDF, JPEG or PNG, at most 10 MB)"))
    kind = SelectField(_l("Kind"), choices=_choices(KIND_LABELS))
