"""Retention and exemption rules (dsr/retention/rules.yml) and the pure engine: issue 4, items 4 and 11."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from dsr.domain.retention import (
    NO_RULE,
    NO_RULE_BASIS,
    Action,
    Decision,
    RecordFacts,
    decide,
    decide_record,
    plan_summary,
)
from dsr.domain.retention_rules import (
    DEFAULT_RULES_PATH,
    BookYear,
    Condition,
    RulesError,
    RuleSet,
    load_rules,
    parse_period,
    parse_rules,
    rules_from_data,
)

RULES = load_rules()
RAW = yaml.safe_load(DEFAULT_RULES_PATH.read_text(encoding="utf-8"))
# The fixed "today" of the other test suites: Thursday 26 November 2026.
TODAY = date(2026, 11, 26)


def record(*tags: str, key: str = "1", **facts) -> RecordFacts:
    return RecordFacts(source="demo", collection="c", key=key, tags=frozenset(tags), **facts)


def one(rec: RecordFacts, today: date = TODAY) -> Decision:
    return decide_record(rec, RULES, today)


def raw_rule(data: dict, rule_id: str) -> dict:
    return next(r for r in data["rules"] if r["id"] == rule_id)


# --- the shipped rules file ---------------------------------------------------------------------------


def test_every_shipped_rule_is_valid_and_cites_its_basis():
    assert len(RULES.rules) == len(RAW["rules"])
    for rule in RULES.rules:
        for text in (rule.title, rule.title_nl, rule.basis, rule.article, rule.source):
            assert text.strip(), rule.id
        assert "Art." in rule.article, rule.id


@pytest.mark.parametrize(
    ("rule_id", "article"),
    [
        ("legal-hold", "17(3)(e)"),
        ("fiscal-retention", "17(3)(b)"),
        ("contract", "6(1)(b)"),
        ("incident-register", "6(1)(f)"),
        ("call-recording", "17(1)(a)"),
        ("marketing", "21(2)-(3)"),
        ("portal-account", "17(1)(a)"),
        ("no-exemption", "17(1)(a)"),
    ],
)
def test_each_rule_of_the_design_table_has_its_article(rule_id, article):
    assert article in RULES.get(rule_id).article


def test_fiscal_rule_cites_the_statutes_and_the_statement():
    rule = RULES.get("fiscal-retention")
    assert rule.period is not None and rule.period.text == "P7Y"
    for cited in ("BW 2:10(3)", "AWR art. 52", "7 jaar voor facturen"):
        assert cited in rule.source


def test_recordings_are_limited_to_180_days_by_the_statement():
    rule = RULES.get("call-recording")
    assert rule.action is Action.ERASE and rule.max_age is not None and rule.max_age.text == "P180D"
    assert "maximaal 180 dagen" in rule.source


def test_precedence_legal_hold_first_statutory_keep_before_every_erase_catch_all_last():
    ids = [r.id for r in RULES.rules]
    assert ids[0] == "legal-hold" and ids[-1] == "no-exemption"
    first_erase = min(i for i, r in enumerate(RULES.rules) if r.action is not Action.KEEP)
    assert ids.index("fiscal-retention") < first_erase
    # Only a legal hold keeps a recording: its rule comes before the contract rule.
    assert ids.index("call-recording") < ids.index("contract")


@pytest.mark.parametrize("tag", sorted(RULES.tags))
def test_every_declared_tag_gets_a_decision(tag):
    assert one(record(tag, dated_on=TODAY, policy_active=False, claim_open=False, retention_until=TODAY))


# --- periods and the erase-on convention --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "parts"),
    [("P7Y", (7, 0, 0, 0)), ("P180D", (0, 0, 0, 180)), ("P1Y6M", (1, 6, 0, 0)), ("P2W", (0, 0, 2, 0))],
)
def test_parse_period(text, parts):
    period = parse_period(text)
    assert (period.years, period.months, period.weeks, period.days) == parts


@pytest.mark.parametrize("text", ["7Y", "P", "P0D", "PT1H", "P1.5Y", "p7y", "P7Y ", 7, None])
def test_parse_period_refuses(text):
    with pytest.raises(ValueError):
        parse_period(text)


def test_an_invoice_of_4_june_2025_is_kept_through_31_december_2032():
    # LEGAL.md "fiscal retention": seven years from the end of the book year (BW 2:10(3), AWR art. 52(4)).
    invoice = record("invoice", dated_on=date(2025, 6, 4))
    decision = one(invoice)
    assert (decision.action, decision.rule_id, decision.article) == (Action.KEEP, "fiscal-retention",
                                                                     "GDPR Art. 17(3)(b)")
    assert decision.kept_until == date(2032, 12, 31) and decision.erase_on == date(2033, 1, 1)
    assert decision.until == "until 2032-12-31 (P7Y from the end of the book year, 2025-12-31)"
    assert one(invoice, date(2032, 12, 31)).action is Action.KEEP
    assert one(invoice, date(2033, 1, 1)).action is Action.ERASE


@pytest.mark.parametrize("tag", ["invoice", "premium_payment"])
@pytest.mark.parametrize(("dated", "kept_until"), [
    (date(2019, 12, 31), date(2026, 12, 31)),  # the book year's last day belongs to it
    (date(2020, 1, 1), date(2027, 12, 31)),    # the next day starts the next book year
    (date(2020, 2, 29), date(2027, 12, 31)),
    (date(2019, 1, 1), date(2026, 12, 31)),
])
def test_fiscal_retention_at_the_edges_of_the_book_year(tag, dated, kept_until):
    decision = one(record(tag, dated_on=dated))
    assert (decision.action, decision.kept_until) == (Action.KEEP, kept_until)
    assert one(record(tag, dated_on=dated), kept_until).action is Action.KEEP
    after = one(record(tag, dated_on=dated), kept_until + timedelta(days=1))
    assert (after.action, after.rule_id, after.lapsed) == (Action.ERASE, "no-exemption", ("fiscal-retention",))


@pytest.mark.parametrize(("dated", "kept_until"), [
    (date(2025, 6, 4), date(2032, 6, 30)),
    (date(2025, 6, 30), date(2032, 6, 30)),
    (date(2025, 7, 1), date(2033, 6, 30)),
    (date(2025, 12, 31), date(2033, 6, 30)),
    (date(2026, 1, 1), date(2033, 6, 30)),
])
def test_a_book_year_ending_30_june(dated, kept_until):
    book_year = BookYear.parse("06-30")
    decision = decide_record(record("invoice", dated_on=dated), RULES, TODAY, book_year)
    assert decision.kept_until == kept_until
    assert decide_record(record("invoice", dated_on=dated), RULES, kept_until + timedelta(days=1),
                         book_year).action is Action.ERASE


@pytest.mark.parametrize("text", ["02-29", "13-01", "6/30", "", "00-10"])
def test_a_book_year_end_that_is_no_day_is_refused(text):
    with pytest.raises(ValueError, match="book year"):
        BookYear.parse(text)


def test_the_old_reading_from_the_document_date_would_have_erased_too_early():
    # 26 November 2019 + 7 years ended on 26 November 2026 under the old rule; now 31 December 2026.
    decision = one(record("invoice", dated_on=date(2019, 11, 26)), date(2026, 11, 27))
    assert (decision.action, decision.erase_on) == (Action.KEEP, date(2027, 1, 1))


@pytest.mark.parametrize(
    ("age", "breach"), [(0, False), (179, False), (180, False), (181, True), (200, True)]
)
def test_recording_is_erased_and_past_180_days_is_a_breach(age, breach):
    # "kept at most 180 days": aged 180 days it may still exist; aged 181 it should not.
    decision = one(record("call_recording", dated_on=TODAY - timedelta(days=age)))
    assert decision.action is Action.ERASE
    assert decision.rule_id == "call-recording"
    assert decision.breach is breach


def test_active_policy_is_kept_while_active_under_the_contract():
    decision = one(record("policy", policy_active=True, claim_open=False))
    assert decision.action is Action.KEEP
    assert decision.rule_id == "contract"
    assert "6(1)(b)" in decision.article
    assert decision.erase_on is None
    assert decision.until == "while the policy is active"


def test_ended_policy_is_erased_and_its_invoices_are_kept_separately():
    policy = record("policy", key="P1", policy_active=False, claim_open=False)
    device = record("device", key="D1", policy_active=False, claim_open=False)
    invoice = record("invoice", key="I1", dated_on=date(2024, 3, 1), policy_active=False)
    decisions = decide([policy, device, invoice], RULES, TODAY)
    assert [(d.record.key, d.action, d.rule_id) for d in decisions] == [
        ("P1", Action.ERASE, "no-exemption"),
        ("D1", Action.ERASE, "no-exemption"),
        ("I1", Action.KEEP, "fiscal-retention"),
    ]
    assert decisions[0].lapsed == ("contract",)
    assert decisions[2].erase_on == date(2032, 1, 1)


def test_open_claim_is_kept_even_after_the_policy_ended():
    decision = one(record("claim", policy_active=False, claim_open=True))
    assert (decision.action, decision.rule_id, decision.erase_on) == (Action.KEEP, "contract", None)
    assert decision.until == "while the claim is open"


def test_settled_claim_of_an_ended_policy_is_erased():
    assert one(record("claim", policy_active=False, claim_open=False)).action is Action.ERASE


@pytest.mark.parametrize(
    "held",
    [
        record("invoice", dated_on=date(2010, 1, 1)),
        record("call_recording", dated_on=TODAY - timedelta(days=400)),
        record("policy", policy_active=False, claim_open=False),
        record("marketing_subscription"),
        record("portal_account"),
        record("survey_invitation"),
        record(),
    ],
    ids=lambda r: ",".join(sorted(r.tags)) or "untagged",
)
def test_held_record_is_kept_regardless_of_other_rules(held):
    held = replace(held, legal_hold="Dispute 2026-041, District Court Rotterdam")
    decision = one(held)
    assert decision.action is Action.KEEP
    assert decision.rule_id == "legal-hold"
    assert decision.article == "GDPR Art. 17(3)(e)"
    assert decision.erase_on is None
    assert decision.until == "until the legal hold is released (Dispute 2026-041, District Court Rotterdam)"
    assert not decision.breach  # a held recording is kept lawfully, not in breach


def test_hold_on_an_invoice_keeps_it_past_its_fiscal_end():
    decision = one(record("invoice", dated_on=date(2019, 11, 27), legal_hold="Court case"))
    assert decision.rule_id == "legal-hold"
    assert decision.also_kept_by == ("fiscal-retention",)
    assert decision.erase_on is None  # the hold has no end date, so neither has the record


def test_fraud_incident_is_kept_until_its_stated_retention_end():
    incident = record("incident", retention_until=date(2031, 6, 30))
    decision = one(incident)
    assert (decision.action, decision.rule_id) == (Action.KEEP, "incident-register")
    assert decision.erase_on == date(2031, 7, 1)
    assert one(incident, date(2031, 6, 30)).action is Action.KEEP
    after = one(incident, date(2031, 7, 1))
    assert (after.action, after.lapsed) == (Action.ERASE, ("incident-register",))


def test_marketing_subscription_is_erased_and_suppressed():
    decision = one(record("marketing_subscription"))
    assert (decision.action, decision.rule_id, decision.suppress) == (Action.ERASE, "marketing", True)
    assert "21(2)-(3)" in decision.article


def test_marketing_under_hold_is_kept_but_the_subject_is_still_suppressed():
    # Art. 21(3): marketing stops whatever happens to the record itself.
    decision = one(record("marketing_subscription", legal_hold="Dispute"))
    assert decision.action is Action.KEEP and decision.suppress


def test_portal_account_is_erased():
    decision = one(record("portal_account"))
    assert (decision.action, decision.rule_id, decision.suppress) == (Action.ERASE, "portal-account", False)


def test_portal_rule_also_covers_login_data_by_fideslang_category():
    login = RecordFacts("portal", "logins", "7", categories=frozenset({"user.authorization.password"}))
    assert one(login).rule_id == "portal-account"
    customer = record("customer", policy_active=True, claim_open=False)
    with_password = replace(customer, categories={"user.authorization"})
    assert one(with_password).rule_id == "contract"  # the contract keep comes first


def test_survey_invitations_are_erased_under_their_own_rule():
    decision = one(record("survey_invitation"))
    assert (decision.action, decision.rule_id) == (Action.ERASE, "survey-invitation")


def test_a_record_no_rule_covers_is_put_to_review_never_erased_by_the_catch_all():
    # A plain Fides collection (untagged, categories no rule names): "review: no retention rule applies".
    orders = RecordFacts("shop", "orders", "id=ord_aaa-aaa", categories=frozenset({"user.financial"}))
    decision = one(orders)
    assert (decision.action, decision.rule_id) == (Action.REVIEW, NO_RULE)
    assert decision.basis == NO_RULE_BASIS and decision.needs_review and decision.erase_on is None
    assert one(replace(orders, legal_hold="Dispute")).rule_id == "legal-hold"  # a hold still keeps it


def test_a_covered_record_with_fields_without_a_category_is_put_to_review():
    decision = one(record("survey_invitation", unclassified=("notes", "extra")))
    assert (decision.action, decision.rule_id) == (Action.REVIEW, NO_RULE)
    assert "notes, extra" in decision.basis
    kept = one(record("invoice", dated_on=TODAY, unclassified=("notes",)))
    assert kept.action is Action.KEEP  # kept anyway: nothing is erased, nothing to review


# --- unknown facts, combinations, alternatives in the rules file --------------------------------------


@pytest.mark.parametrize(
    ("rec", "missing"),
    [
        (record("invoice"), ("dated_on",)),
        (record("incident"), ("retention_until",)),
        (record("policy", policy_active=False), ("claim_open",)),
        (record("customer"), ("policy_active", "claim_open")),
    ],
)
def test_unknown_fact_keeps_the_record_for_review_instead_of_erasing(rec, missing):
    decision = one(rec)
    assert decision.action is Action.KEEP
    assert decision.missing_facts == missing and decision.needs_review
    assert decision.erase_on is None


def test_one_condition_that_holds_is_enough_even_if_another_is_unknown():
    decision = one(record("policy", policy_active=True))
    assert decision.until == "while the policy is active" and not decision.needs_review


def test_erasable_only_once_every_keep_rule_has_ended():
    both = record("invoice", "incident", dated_on=date(2019, 11, 27), retention_until=date(2028, 1, 1))
    decision = one(both)
    assert decision.rule_id == "fiscal-retention"
    assert decision.also_kept_by == ("incident-register",)
    assert decision.erase_on == date(2028, 1, 2)


def _counting(count_from: str, period: str = "P3Y") -> RuleSet:
    """The shipped rules with a claim-file rule counting ``period`` from ``count_from``."""
    data = copy.deepcopy(RAW)
    rule = copy.deepcopy(raw_rule(data, "fiscal-retention"))
    rule.update(id="claim-file", priority=45, applies_to={"tags": ["claim"]}, period=period, count_from=count_from,
                period_from="The end the rule names.")
    data["rules"].append(rule)
    return rules_from_data(data)


def test_a_period_from_the_end_of_the_contract_waits_while_it_runs():
    rules = _counting("end_of_contract")
    running = decide_record(record("claim", policy_active=True, claim_open=False), rules, TODAY)
    assert (running.rule_id, running.erase_on) == ("contract", None)
    assert running.until.endswith("claim-file: while the contract runs, then P3Y from the end of the contract")
    ended = record("claim", policy_active=False, claim_open=False, contract_ended_on=date(2024, 3, 31))
    decision = decide_record(ended, rules, TODAY)
    assert (decision.rule_id, decision.kept_until) == ("claim-file", date(2027, 3, 31))
    assert decision.until == "until 2027-03-31 (P3Y from the end of the contract, 2024-03-31)"
    unknown = decide_record(record("claim", policy_active=False, claim_open=False), rules, TODAY)
    assert unknown.missing_facts == ("contract_ended_on",) and unknown.erase_on is None


def test_a_period_from_the_end_of_the_claim():
    rules = _counting("end_of_claim")
    open_claim = decide_record(record("claim", policy_active=False, claim_open=True), rules, TODAY)
    assert open_claim.erase_on is None and "while the claim is open, then P3Y" in open_claim.until
    closed = record("claim", policy_active=False, claim_open=False, claim_closed_on=date(2023, 11, 26))
    assert decide_record(closed, rules, TODAY).kept_until == date(2026, 11, 26)
    assert decide_record(closed, rules, date(2026, 11, 27)).action is Action.ERASE


def test_a_period_from_the_case_closure_starts_when_the_case_is_closed():
    rules = _counting("case_closure", "P1Y")
    still_open = decide_record(record("claim", policy_active=False, claim_open=False), rules, TODAY)
    assert still_open.erase_on is None and still_open.until.startswith("until the case is closed")
    closed = record("claim", policy_active=False, claim_open=False, case_closed_on=date(2026, 1, 15))
    assert decide_record(closed, rules, TODAY).erase_on == date(2027, 1, 16)


def test_a_rule_with_a_period_must_say_what_it_counts_from():
    data = copy.deepcopy(RAW)
    del raw_rule(data, "fiscal-retention")["count_from"]
    with pytest.raises(RulesError, match="rule 'fiscal-retention': count_from is required"):
        rules_from_data(data)
    raw_rule(data, "fiscal-retention")["count_from"] = "end_of_year"
    with pytest.raises(RulesError, match="unknown count_from 'end_of_year'"):
        rules_from_data(data)


def test_review_is_no_action_a_rule_may_take():
    data = copy.deepcopy(RAW)
    raw_rule(data, "marketing")["action"] = "review"
    with pytest.raises(RulesError, match="unknown action 'review'"):
        rules_from_data(data)


def test_the_rules_digest_changes_with_the_rules():
    data = copy.deepcopy(RAW)
    assert rules_from_data(data).digest == RULES.digest
    raw_rule(data, "fiscal-retention")["period"] = "P10Y"
    assert rules_from_data(data).digest != RULES.digest


def test_anonymise_is_an_action_the_rules_may_choose():
    data = copy.deepcopy(RAW)
    raw_rule(data, "no-exemption")["action"] = "anonymise"
    decision = decide_record(record("policy", policy_active=False, claim_open=False), rules_from_data(data), TODAY)
    assert decision.action is Action.ANONYMISE


def test_an_undeclared_tag_is_refused_not_erased():
    with pytest.raises(ValueError, match=r"demo/c/1: tags not declared in the rules file: invoices"):
        one(record("invoices", dated_on=TODAY))


def test_dates_must_be_dates_and_a_hold_needs_a_reason():
    with pytest.raises(TypeError, match="today"):
        decide([record("policy")], RULES, datetime(2026, 11, 26, 10, 0))
    with pytest.raises(TypeError, match="dated_on"):
        record("invoice", dated_on=datetime(2020, 1, 1))
    with pytest.raises(ValueError, match="reason"):
        record("invoice", legal_hold="  ")


def test_plan_summary_counts_by_action_and_rule():
    decisions = decide(
        [
            record("invoice", key="1", dated_on=date(2019, 11, 27)),
            record("invoice", key="2", dated_on=date(2024, 1, 1)),
            record("invoice", key="3", dated_on=date(2010, 1, 1)),
            record("call_recording", key="4", dated_on=TODAY - timedelta(days=190)),
            record("marketing_subscription", key="5"),
            record("policy", key="6", policy_active=True, claim_open=False),
            record("customer", key="7"),
        ],
        RULES,
        TODAY,
    )
    summary = plan_summary(decisions)
    assert summary.total == 7
    assert summary.by_action == {Action.ERASE: 3, Action.ANONYMISE: 0, Action.KEEP: 4, Action.REVIEW: 0}
    assert [(c.action, c.rule_id, c.count, c.next_erase_on, c.open_ended) for c in summary.by_rule] == [
        (Action.ERASE, "call-recording", 1, None, 0),
        (Action.ERASE, "marketing", 1, None, 0),
        (Action.ERASE, "no-exemption", 1, None, 0),
        (Action.KEEP, "contract", 2, None, 2),
        (Action.KEEP, "fiscal-retention", 2, date(2027, 1, 1), 0),
    ]
    assert (summary.breaches, summary.needs_review, summary.suppress) == (1, 1, True)
    assert summary.next_erase_on == date(2027, 1, 1)
    assert plan_summary([]).by_action == {Action.ERASE: 0, Action.ANONYMISE: 0, Action.KEEP: 0,
                                          Action.REVIEW: 0}


# --- a malformed rules file is refused, naming the rule -----------------------------------------------


def _edit(rule_id: str, **changes):
    def apply(data: dict) -> None:
        rule = raw_rule(data, rule_id)
        for key, value in changes.items():
            if value is None:
                rule.pop(key, None)
            else:
                rule[key] = value

    return apply


def _add_after_catch_all(data: dict) -> None:
    data["rules"].append({**raw_rule(data, "portal-account"), "id": "late", "priority": 2000})


def _drop_catch_all(data: dict) -> None:
    data["rules"] = [r for r in data["rules"] if r["id"] != "no-exemption"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_edit("fiscal-retention", action="delete"), "rule 'fiscal-retention': unknown action 'delete'"),
        (_edit("fiscal-retention", period="7 years"), "rule 'fiscal-retention': bad period"),
        (
            _edit("fiscal-retention", period="PT12H"),
            "rule 'fiscal-retention': bad period: period 'PT12H' has",
        ),
        (_edit("contract", basis=None), "rule 'contract': basis is required"),
        (_edit("contract", source="  "), "rule 'contract': source is required"),
        (_edit("contract", keep_while=["policy_expired"]), "rule 'contract': unknown fact 'policy_expired'"),
        (_edit("contract", keep_while=None), "rule 'contract': a keep rule needs keep_while"),
        (_edit("contract", perod="P1Y"), "rule 'contract': unknown key 'perod'"),
        (_edit("contract", applies_to={"tags": ["policies"]}), "rule 'contract': applies_to: tag 'policies'"),
        (
            _edit("portal-account", applies_to={"categories": ["login"]}),
            "rule 'portal-account': applies_to: 'login'",
        ),
        (_edit("fiscal-retention", period_from=None), "rule 'fiscal-retention': period_from is required"),
        (
            _edit("fiscal-retention", keep_while="policy_active"),
            "rule 'fiscal-retention': period and keep_while",
        ),
        (_edit("fiscal-retention", count_from="fiscal_year"), "rule 'fiscal-retention': unknown count_from"),
        (_edit("contract", max_age="P1Y", period_from="x"), "rule 'contract': max_age is a limit"),
        (_edit("contract", suppress=True), "rule 'contract': suppress is for erase"),
        (_edit("marketing", keep_while="claim_open"), "rule 'marketing': keep_while is only for keep rules"),
        (_edit("marketing", priority="high"), "rule 'marketing': priority must be a whole number"),
        (_edit("marketing", priority=20), "rule 'marketing': priority 20 is also rule 'fiscal-retention'"),
        (_edit("marketing", id="contract"), "rule 'contract': id used twice"),
        (_add_after_catch_all, "rule 'late': unreachable, catch-all rule 'no-exemption'"),
        (_drop_catch_all, "no catch-all rule"),
    ],
)
def test_malformed_rules_are_refused_with_the_rule_named(change, message):
    data = copy.deepcopy(RAW)
    change(data)
    with pytest.raises(RulesError) as caught:
        rules_from_data(data, origin="rules.yml")
    assert any(problem.startswith(message) for problem in caught.value.problems), caught.value.problems
    assert str(caught.value).startswith("rules.yml: ")


def test_every_problem_is_reported_at_once():
    data = copy.deepcopy(RAW)
    _edit("fiscal-retention", action="delete")(data)
    _edit("contract", basis=None)(data)
    with pytest.raises(RulesError) as caught:
        rules_from_data(data)
    assert len(caught.value.problems) == 2


def test_a_rule_without_id_is_named_by_position():
    data = copy.deepcopy(RAW)
    del data["rules"][2]["id"]
    with pytest.raises(RulesError, match=r"rule #3: id is required"):
        rules_from_data(data)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rules: [", "not valid YAML"),
        ("- id: x", "must be a mapping"),
        ("version: 2\ntags: {a: b}\nrules: []", "version must be 1"),
    ],
)
def test_a_file_that_is_not_a_rules_file_is_refused(text, message):
    with pytest.raises(RulesError, match=message):
        parse_rules(text)


def test_load_rules_reads_a_given_path(tmp_path):
    path = tmp_path / "rules.yml"
    path.write_text(DEFAULT_RULES_PATH.read_text(encoding="utf-8"), encoding="utf-8")
    assert load_rules(path) == RULES
    path.write_text("version: 1\ntags: {a: b}\nrules: [{id: only}]\n", encoding="utf-8")
    with pytest.raises(RulesError, match=str(path)):
        load_rules(path)


# --- properties ---------------------------------------------------------------------------------------

days = st.dates(min_value=date(2010, 1, 1), max_value=date(2035, 12, 31))
records = st.builds(
    RecordFacts,
    source=st.just("demo"),
    collection=st.sampled_from(["customers", "policies", "claims", "invoices", "calls", "incidents"]),
    key=st.text("0123456789", min_size=1, max_size=6),
    tags=st.frozensets(st.sampled_from(sorted(RULES.tags)), max_size=3),
    categories=st.frozensets(
        st.sampled_from(["user.contact.email", "user.authorization.password", "user.financial", "system"]),
        max_size=2,
    ),
    dated_on=st.none() | days,
    policy_active=st.none() | st.booleans(),
    claim_open=st.none() | st.booleans(),
    legal_hold=st.none() | st.sampled_from(["Dispute", "Court case 2026-17"]),
    retention_until=st.none() | days,
)


@given(st.lists(records, max_size=8), days)
def test_decide_is_deterministic_and_per_record(recs, today):
    decisions = decide(recs, RULES, today)
    assert decisions == decide(recs, RULES, today)
    assert decide(list(reversed(recs)), RULES, today) == list(reversed(decisions))
    assert [d.record for d in decisions] == recs


@given(records, days)
def test_a_held_record_is_never_erased(rec, today):
    decision = one(rec, today)
    if rec.legal_hold is not None:
        assert (decision.action, decision.rule_id, decision.erase_on) == (Action.KEEP, "legal-hold", None)


@given(records, days)
def test_erase_on_is_after_today_and_exact(rec, today):
    decision = one(rec, today)
    if decision.action is not Action.KEEP:
        assert decision.erase_on is None
    elif decision.erase_on is not None:
        assert decision.erase_on > today
        assert not decision.needs_review
        # Kept through the day before; on erase_on itself nothing keeps it any more.
        assert one(rec, decision.erase_on - timedelta(days=1)).action is Action.KEEP
        assert one(rec, decision.erase_on).action is not Action.KEEP


@given(records, days)
def test_every_decision_cites_its_rule(rec, today):
    decision = one(rec, today)
    if decision.action is Action.REVIEW:
        assert decision.rule_id == NO_RULE and decision.erase_on is None
        return
    rule = RULES.get(decision.rule_id)
    assert (decision.basis, decision.article) == (rule.basis, rule.article)
    if decision.breach:
        assert decision.action is Action.ERASE and decision.rule_id == "call-recording"
    if decision.action is Action.KEEP:
        assert decision.until
        assert Condition.LEGAL_HOLD in rule.keep_while or rec.legal_hold is None
