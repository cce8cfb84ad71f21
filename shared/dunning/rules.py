"""The rules of dunning, pure: what a customer's account and case call for on a given day.

- The claim is every open item past its due date plus the fees and interest the case posted;
  disputed items are no part of it.
- The first level is reached ``after_days`` after the due date of the oldest open item, every
  further level only when the previous level's deadline has passed (plus its ``after_days``) and
  the claim is still open. One step per customer and day at most; a day already stepped (or a
  day before the last step) changes nothing.
- Nothing open left of the claim settles the case: dunning stops, suspended services come back.
- Excluded, in this order: a block of the customer, an agreed instalment plan, a claim made only
  of disputed items, a claim below the minimum.
- A step posts the level's fee (for businesses set off against the flat charge of § 288 (5)),
  interest on each invoice of the claim from the day after it was first demanded (that notice put
  it in default) through the notice date, and the flat charge once per claim for businesses.
  Every id (case, items, postings) comes from customer, level and date, so a step decided again
  is the same step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from shared.accounts.model import Account, OpenItem, Posting, PostingKind
from shared.customers import Customer
from shared.dunning import texts
from shared.dunning.interest import (
    BaseRateTable,
    BaseRateUnknownError,
    InterestSegment,
    item_interest,
)
from shared.dunning.levels import DunningLevels, Language, Level
from shared.dunning.model import (
    Case,
    ChargeKind,
    ExclusionReason,
    Handover,
    Holds,
    InterestDetail,
    Notice,
    NoticeCharge,
    NoticeLine,
    PendingStep,
    Recipient,
    Step,
)
from shared.invoicing.model import Seller
from shared.money import ZERO, total
from shared.payments.iban import grouped_iban

PRINCIPAL_KINDS = frozenset({"invoice"})
CHARGE_PREFIXES: dict[ChargeKind, str] = {"dunning_fee": "MF", "interest": "MZ", "flat_fee": "MP"}


@dataclass(frozen=True)
class Policy:
    levels: DunningLevels
    rates: BaseRateTable
    seller: Seller
    minimum_open: Decimal


@dataclass(frozen=True)
class Situation:
    customer_id: str
    account: Account
    case: Case | None
    holds: Holds
    today: date


@dataclass(frozen=True)
class Idle:
    reason: str


@dataclass(frozen=True)
class Excluded:
    reason: ExclusionReason


@dataclass(frozen=True)
class Settled:
    pass


@dataclass(frozen=True)
class Due:
    level: int
    claim: tuple[OpenItem, ...]


Evaluation = Idle | Excluded | Settled | Due


def claim_items(situation: Situation) -> tuple[OpenItem, ...]:
    """Open items past due, and the open charges of the case, disputed ones included. Once a
    claim is with an agency it is the items handed over, and newer items wait until it is paid."""
    case = situation.case
    if case is not None and case.handover is not None:
        handed_over = set(case.handover.items)
        return tuple(i for i in situation.account.open_items() if i.item in handed_over)
    charges = set(case.charges) if case else set()
    return tuple(
        item
        for item in situation.account.open_items()
        if item.item in charges or item.overdue_on(situation.today)
    )


def covered(situation: Situation, claim: tuple[OpenItem, ...]) -> bool:
    """Nothing left to claim: every item is paid, or the customer's credit (money booked to no
    item, or an invoice cancelled after it was paid) covers what is open."""
    return total(item.open for item in claim) <= max(situation.account.credit, ZERO)


def evaluate(situation: Situation, policy: Policy) -> Evaluation:
    claim = claim_items(situation)
    case = situation.case
    if covered(situation, claim):
        return Settled() if case is not None else Idle("not_due")
    if case is not None and case.handover is not None:
        return Idle("handed_over")
    last = case.last_step if case else None
    if last is not None and last.on >= situation.today:
        return Idle("stepped_today")

    level = due_level(situation, claim, policy.levels)
    if level is None:
        return Idle("not_due" if case is None else "waiting")
    reason = exclusion(situation, claim, policy)
    if reason is not None:
        return Excluded(reason)
    return Due(level, undisputed(situation, claim))


def due_level(
    situation: Situation, claim: tuple[OpenItem, ...], levels: DunningLevels
) -> int | None:
    case = situation.case
    if case is None:
        return 1 if _first_level_due(claim, levels.level(1), situation.today) else None
    if case.level >= len(levels.levels) or case.deadline is None:
        return None
    following = levels.level(case.level + 1)
    due = situation.today >= case.deadline + timedelta(days=following.after_days)
    return case.level + 1 if due else None


def _first_level_due(claim: tuple[OpenItem, ...], level: Level, today: date) -> bool:
    due_dates = [item.due_on for item in claim if item.due_on is not None]
    return bool(due_dates) and today >= min(due_dates) + timedelta(days=level.after_days)


def exclusion(
    situation: Situation, claim: tuple[OpenItem, ...], policy: Policy
) -> ExclusionReason | None:
    today = situation.today
    if situation.holds.of_kind("block", today) is not None:
        return "block"
    if situation.holds.of_kind("plan", today) is not None:
        return "instalment_plan"
    rest = undisputed(situation, claim)
    if not rest or due_level(situation, rest, policy.levels) is None:
        return "dispute"
    return _below_minimum(situation, rest, policy)


def _below_minimum(
    situation: Situation, rest: tuple[OpenItem, ...], policy: Policy
) -> ExclusionReason | None:
    claim_open = total(item.open for item in rest) - max(situation.account.credit, ZERO)
    level = due_level(situation, rest, policy.levels)
    minimum = policy.levels.level(level).minimum_open if level is not None else None
    if claim_open < max(policy.minimum_open, minimum or ZERO):
        return "below_threshold"
    return None


def undisputed(situation: Situation, claim: tuple[OpenItem, ...]) -> tuple[OpenItem, ...]:
    disputed = situation.holds.disputed(situation.today)
    return tuple(item for item in claim if item.item not in disputed)


@dataclass(frozen=True)
class StepPlan:
    """What a step does: the case after it (with the step pending) and its notice."""

    case: Case
    pending: PendingStep


@dataclass(frozen=True)
class StepContext:
    situation: Situation
    due: Due
    customer: Customer
    shard: int
    run_id: str
    number: str | None
    policy: Policy

    @property
    def level(self) -> Level:
        return self.policy.levels.level(self.due.level)

    @property
    def language(self) -> Language:
        return self.policy.levels.language_for(self.customer.address.country)

    @property
    def today(self) -> date:
        return self.situation.today

    @property
    def deadline(self) -> date | None:
        days = self.level.deadline_days
        return self.today + timedelta(days=days) if days is not None else None


def plan_step(context: StepContext) -> StepPlan:
    case = context.situation.case or new_case(context)
    listed = case.listed | {
        item.item: context.today for item in context.due.claim if item.item not in case.listed
    }
    case = case.model_copy(update={"listed": listed})
    interest, details, deferred = interest_due(context, case)
    fee, flat = fees_due(context, case)
    charges = _charges(context, fee=fee, interest=interest, flat=flat)
    notice = build_notice(context, charges, details) if context.number else None
    step = Step(
        level=context.due.level,
        key=context.level.key,
        on=context.today,
        notice_number=context.number,
        deadline=context.deadline,
        fee=fee,
        interest=interest,
        flat_fee=flat,
        claim_total=notice.total if notice else _owed(context, fee + interest + flat),
        interest_deferred=deferred,
        channel=context.customer.delivery if notice else None,
    )
    pending = PendingStep(
        run_id=context.run_id, step=step, notice=notice, postings=_postings(context, charges)
    )
    return StepPlan(case=_advanced(context, case, step, charges, pending), pending=pending)


def _owed(context: StepContext, charged: Decimal) -> Decimal:
    owed = total(item.open for item in context.due.claim) + charged
    return owed - credit_against(context, owed)


def new_case(context: StepContext) -> Case:
    return Case(
        customer_id=context.customer.customer_id,
        shard=context.shard,
        case_id=f"{context.customer.customer_id}-{context.today:%Y%m%d}",
        opened_on=context.today,
        level=0,
        since=context.today,
    )


def _advanced(
    context: StepContext,
    case: Case,
    step: Step,
    charges: tuple[NoticeCharge, ...],
    pending: PendingStep,
) -> Case:
    level = context.level
    update: dict[str, object] = {
        "level": context.due.level,
        "level_key": level.key,
        "since": context.today,
        "deadline": context.deadline,
        "charges": case.charges + tuple(c.item for c in charges),
        "flat_fee_charged": case.flat_fee_charged or step.flat_fee > 0,
        "nominal_fees": case.nominal_fees + level.fee,
        "fees_charged": case.fees_charged + step.fee + step.flat_fee,
        "steps": (*case.steps, step),
        "pending": pending,
    }
    if level.does("interest") and not step.interest_deferred:
        update["interest_through"] = context.today
    if level.does("suspend") and case.suspended_on is None:
        update |= {"suspended_on": context.today, "suspension_announced": False}
    if level.does("handover"):
        update["handover"] = _handover(context, step, charges)
    return case.model_copy(update=update)


def _handover(context: StepContext, step: Step, charges: tuple[NoticeCharge, ...]) -> Handover:
    agency = context.level.agency
    assert agency is not None  # the levels file pairs every handover with its agency
    documents = [i.document_number for i in context.due.claim if i.document_number]
    return Handover(
        agency_id=agency.id,
        agency_name=agency.name,
        on=context.today,
        claim_total=step.claim_total,
        items=(*(i.item for i in context.due.claim), *(c.item for c in charges)),
        documents=tuple(dict.fromkeys([*documents, *([context.number] if context.number else [])])),
    )


def interest_due(
    context: StepContext, case: Case
) -> tuple[Decimal, tuple[InterestDetail, ...], bool]:
    """Interest on each invoice of the claim since it is in default; deferred (nothing charged,
    nothing lost) when the base rate of a day is not in the table yet."""
    if not context.level.does("interest"):
        return ZERO, (), False
    terms = context.policy.levels.interest
    points = terms.business_points if context.customer.kind == "business" else terms.consumer_points
    disputed = context.situation.holds.disputed(context.today)
    account = context.situation.account
    details: list[InterestDetail] = []
    amount = ZERO
    for item_name, listed_on in sorted(case.listed.items()):
        item = account.item(item_name)
        if item is None or item.kind not in PRINCIPAL_KINDS or item_name in disputed:
            continue
        first = listed_on + timedelta(days=1)
        if case.interest_through is not None:
            first = max(first, case.interest_through + timedelta(days=1))
        try:
            charge = item_interest(
                item_name,
                account.postings,
                first_day=first,
                last_day=context.today,
                points=points,
                table=context.policy.rates,
                days_in_year=terms.days_in_year,
            )
        except BaseRateUnknownError:
            return ZERO, (), True
        amount += charge.amount
        details += [_detail(item, segment) for segment in charge.segments]
    return amount, tuple(details), False


def _detail(item: OpenItem, segment: InterestSegment) -> InterestDetail:
    return InterestDetail(
        item=item.item,
        document_number=item.document_number,
        start=segment.start,
        end=segment.end,
        principal=segment.principal,
        base_percent=segment.base_percent,
        points=segment.points,
        days=segment.days,
        amount=segment.amount.quantize(Decimal("0.0001")),
    )


def fees_due(context: StepContext, case: Case) -> tuple[Decimal, Decimal]:
    """The level's fee and the flat charge; a business's fees count against the flat charge."""
    level = context.level
    terms = context.policy.levels.interest
    business = context.customer.kind == "business"
    flat = ZERO
    if level.does("flat_fee") and business and not case.flat_fee_charged:
        flat = max(ZERO, terms.business_flat_fee - case.fees_charged)
    set_off = business and terms.fees_count_against_flat_fee
    if not set_off or not (case.flat_fee_charged or flat > 0):
        return level.fee, flat
    limit = terms.business_flat_fee
    before = max(ZERO, case.nominal_fees - limit)
    after = max(ZERO, case.nominal_fees + level.fee - limit)
    return after - before, flat


def charge_item(kind: ChargeKind, level: int, day: date) -> str:
    return f"{CHARGE_PREFIXES[kind]}{day:%Y%m%d}{level:02d}"


def _charges(
    context: StepContext, *, fee: Decimal, interest: Decimal, flat: Decimal
) -> tuple[NoticeCharge, ...]:
    amounts: tuple[tuple[ChargeKind, Decimal], ...] = (
        ("dunning_fee", fee),
        ("interest", interest),
        ("flat_fee", flat),
    )
    return tuple(
        NoticeCharge(item=charge_item(kind, context.due.level, context.today), kind=kind, amount=a)
        for kind, a in amounts
        if a > 0
    )


POSTING_KINDS: dict[ChargeKind, PostingKind] = {
    "dunning_fee": "dunning_fee",
    "interest": "interest",
    "flat_fee": "dunning_fee",
}


def _postings(context: StepContext, charges: tuple[NoticeCharge, ...]) -> tuple[Posting, ...]:
    customer_id = context.customer.customer_id
    return tuple(
        Posting(
            posting_id=f"dunning:{customer_id}:{charge.item}",
            customer_id=customer_id,
            booked_on=context.today,
            kind=POSTING_KINDS[charge.kind],
            amount=charge.amount,
            item=charge.item,
            document_number=context.number,
            source=f"dunning:{context.run_id}",
            text=f"{texts.kind_label(charge.kind, 'de')} {context.level.title.de}",
            due_on=context.deadline or context.today,
        )
        for charge in charges
    )


def build_notice(
    context: StepContext,
    charges: tuple[NoticeCharge, ...],
    details: tuple[InterestDetail, ...],
) -> Notice:
    assert context.number is not None
    level, language = context.level, context.language
    lines = tuple(_line(item) for item in context.due.claim)
    owed = total(line.open for line in lines) + total(c.amount for c in charges)
    credit = credit_against(context, owed)
    values = _placeholders(context, owed - credit)
    return Notice(
        number=context.number,
        run_id=context.run_id,
        case_id=(context.situation.case or new_case(context)).case_id,
        level=context.due.level,
        level_key=level.key,
        issue_date=context.today,
        deadline=context.deadline,
        seller=context.policy.seller,
        recipient=recipient_of(context.customer, language),
        lines=lines,
        charges=charges,
        credit=credit,
        interest=details,
        title=texts.fill(level.title.get(language), values),
        intro=texts.fill(level.intro.get(language), values),
        closing=texts.fill(level.closing.get(language), values),
        legal=legal_texts(context, lines, charges),
        payment_text=_payment_text(context, values) if context.deadline else None,
        agency=context.policy.levels.agency,
        suspends=level.does("suspend"),
        hands_over=level.does("handover"),
    )


def credit_against(context: StepContext, owed: Decimal) -> Decimal:
    """The customer's credit, as far as it goes against what is owed."""
    return min(max(context.situation.account.credit, ZERO), owed)


def recipient_of(customer: Customer, language: Language) -> Recipient:
    return Recipient(
        customer_id=customer.customer_id,
        name=customer.name,
        email=customer.email,
        address=customer.address,
        kind=customer.kind,
        delivery=customer.delivery,
        language=language,
    )


def _line(item: OpenItem) -> NoticeLine:
    return NoticeLine(
        item=item.item,
        kind=item.kind,
        document_number=item.document_number,
        due_on=item.due_on,
        amount=item.amount,
        credited=item.credited,
        open=item.open,
        return_reason=item.return_reason,
    )


def _placeholders(context: StepContext, claim_total: Decimal) -> dict[str, str]:
    language = context.language
    agency = context.policy.levels.agency
    deadline = context.deadline
    return {
        "deadline": texts.day(deadline, language) if deadline else "",
        "total": texts.money(claim_total, language),
        "agency": agency.name if agency else "",
        "notice_number": context.number or "",
        "customer_id": context.customer.customer_id,
    }


def _payment_text(context: StepContext, values: dict[str, str]) -> str:
    template = context.policy.levels.legal.payment.get(context.language)
    seller = context.policy.seller
    iban = grouped_iban(seller.iban)
    return texts.fill(template, values | {"iban": iban, "bic": seller.bic})


def legal_texts(
    context: StepContext, lines: tuple[NoticeLine, ...], charges: tuple[NoticeCharge, ...]
) -> tuple[str, ...]:
    legal, language = context.policy.levels.legal, context.language
    found: list[str] = []
    for code in dict.fromkeys(line.return_reason for line in lines if line.return_reason):
        reason = context.policy.levels.return_reason(code, language)
        values = {"reason_code": code, "reason": reason}
        found.append(texts.fill(legal.returned_debit.get(language), values))
    kinds = {charge.kind for charge in charges}
    if "interest" in kinds:
        business = context.customer.kind == "business"
        terms = context.policy.levels.interest
        points = terms.business_points if business else terms.consumer_points
        text = legal.interest_business if business else legal.interest_consumer
        found.append(texts.fill(text.get(language), {"points": f"{points.normalize():f}"}))
    if "flat_fee" in kinds:
        found.append(legal.flat_fee.get(language))
    if kinds:
        found.append(legal.no_vat.get(language))
    found.append(legal.already_paid.get(language))
    return tuple(found)
