"""The dunning use cases: run one shard on a day, and settle one customer after a payment.

A shard's customers to look at are those the ledger names as overdue plus those with a case.
For each the rules decide; a step is stored as pending with everything it does before any of it
is done (postings, archived PDF, document, events), then done and marked done. Every effect is
idempotent, so a retried shard, a second run on the same day or a crash between the two writes
ends with each step taken once. Notice numbers come in blocks per run and shard, like invoice
numbers; a number that ends without a notice is recorded as void.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Literal

from shared.accounts.model import Account
from shared.accounts.ports import Ledger, OverdueLedger
from shared.customers import Customer
from shared.delivery.model import DeliveryRequest
from shared.delivery.ports import DeliveryQueue
from shared.dunning.model import (
    Case,
    ClaimLine,
    Holds,
    Notice,
    NoticeLine,
    PaymentLine,
    ProvisioningEvent,
    Step,
)
from shared.dunning.pdf import render_notice
from shared.dunning.ports import (
    CustomerDirectory,
    DunningRunStore,
    DunningStore,
    NoticeStore,
    ProvisioningEvents,
    ShardState,
)
from shared.dunning.rules import (
    Due,
    Excluded,
    Idle,
    Policy,
    Settled,
    Situation,
    StepContext,
    claim_items,
    covered,
    evaluate,
    plan_step,
)
from shared.dunning.run import DunningShardRequest, DunningShardResult
from shared.invoicing.model import document_key
from shared.invoicing.numbering import Assignment, NumberBlock, range_key
from shared.invoicing.run import Failure, PostDocument
from shared.money import ZERO, total
from shared.periods import retain_until
from shared.ports import DocumentArchive, NumberRanges

logger = logging.getLogger(__name__)

SettleOutcome = Literal["no_case", "open", "settled", "reactivated", "failed"]
NO_NOTICE_REASON = "no dunning notice issued for the customer under this number"


@dataclass(frozen=True)
class DunningSetup:
    shard_count: int
    notice_prefix: str
    retention_years: int


@dataclass
class ShardWork:
    """What one shard's attempt has found and done so far."""

    request: DunningShardRequest
    state: ShardState
    checked: int = 0
    customers: dict[str, Customer] = field(default_factory=dict)
    excluded: Counter[str] = field(default_factory=Counter)
    settled: int = 0
    reactivations: int = 0
    handed_over: list[Situation] = field(default_factory=list)
    payments: list[PaymentLine] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)

    @property
    def today(self) -> date:
        return self.request.run_date

    @property
    def cases(self) -> dict[str, Case]:
        return self.state.cases

    def fail(self, customer_id: str, reason: str) -> None:
        self.failed.append(Failure(customer_id=customer_id, reason=reason))
        logger.error("dunning step failed", extra={"customer_id": customer_id, "reason": reason})


@dataclass
class CaseSteps:
    """What the run and the statement import share: completing a case's pending step, and
    settling a case whose claim is paid. Needs the accounts but not their overdue index."""

    ledger: Ledger
    store: DunningStore
    notices: NoticeStore
    archive: DocumentArchive
    events: ProvisioningEvents
    setup: DunningSetup
    render: Callable[[Notice], bytes] = render_notice

    def settle(self, customer_id: str, *, on: date) -> SettleOutcome:
        """After payments were posted: a claim paid in full ends dunning and reactivates the
        customer at once."""
        return self._settle(self.store.case(customer_id), on)

    def settle_all(self, customer_ids: Collection[str], *, on: date) -> dict[str, SettleOutcome]:
        """``settle`` for every customer a statement import booked money to: one batch read
        finds those in dunning, and a customer whose settling fails is logged and left to the
        next dunning run, which settles what this missed."""
        cases = self.store.cases_of(customer_ids)
        outcomes: dict[str, SettleOutcome] = {c: "no_case" for c in customer_ids}
        for customer_id, case in sorted(cases.items()):
            try:
                outcomes[customer_id] = self._settle(case, on)
            except Exception:
                logger.exception(
                    "dunning not told of a payment", extra={"customer_id": customer_id}
                )
                outcomes[customer_id] = "failed"
        return outcomes

    def _settle(self, case: Case | None, on: date) -> SettleOutcome:
        if case is not None and case.pending is not None:
            case = self.complete(case)
        if case is None:
            return "no_case"
        customer_id = case.customer_id
        situation = Situation(customer_id, self.ledger.account(customer_id), case, Holds(), on)
        if not covered(situation, claim_items(situation)):
            return "open"
        reactivated, _ = self.settle_case(case, on, run_id=f"settle-{on.isoformat()}")
        return "reactivated" if reactivated else "settled"

    def complete(self, case: Case) -> Case | None:
        """Make sure of everything the pending step does, then mark it done."""
        pending = case.pending
        if pending is None:
            return case
        self.ledger.post(pending.postings)
        if pending.notice is not None:
            self._issue(pending.notice)
        announce = case.suspended_on is not None and not case.suspension_announced
        if announce:
            self.events.publish([suspension_event(case, pending.run_id)])
        done = case.model_copy(
            update={"pending": None, "suspension_announced": case.suspended_on is not None}
        )
        return self.store.save_case(done) or self.store.case(case.customer_id)

    def _issue(self, notice: Notice) -> None:
        key = document_key(notice.customer_id, notice.number)
        pdf = self.render(notice)
        until = retain_until(notice.issue_date, self.setup.retention_years)
        stored = self.archive.store_pdf(key, pdf, retain_until=until)
        if not stored and self.archive.read(key) != pdf:
            logger.warning(
                "archived notice kept; it renders differently now",
                extra={"notice_number": notice.number, "customer_id": notice.customer_id},
            )
        if not self.notices.issue_notice(notice, pdf_key=key):
            logger.info("dunning notice already issued", extra={"notice_number": notice.number})

    def settle_case(self, case: Case, on: date, run_id: str) -> tuple[bool, Case | None]:
        """Reactivate a suspended customer, then end the case (or, once handed over, mark the
        claim settled so that the agency is told before the case ends)."""
        reactivated = case.suspended_on is not None
        if reactivated:
            self.events.publish([reactivation_event(case, run_id, on)])
        keys = {"customer_id": case.customer_id, "case_id": case.case_id, "run_id": run_id}
        if case.handover is None:
            self.store.close_case(case, closed_on=on, reason="paid in full")
            logger.info("dunning case settled", extra=keys | {"reactivated": reactivated})
            return reactivated, None
        if case.handover.settled_on is not None and not reactivated:
            return False, case
        handover = case.handover.model_copy(update={"settled_on": case.handover.settled_on or on})
        saved = self.store.save_case(
            case.model_copy(update={"handover": handover, "suspended_on": None})
        )
        logger.info("handed-over claim settled", extra=keys | {"reactivated": reactivated})
        return reactivated, saved or self.store.case(case.customer_id)


@dataclass
class DunningService:
    ledger: OverdueLedger
    store: DunningStore
    customers: CustomerDirectory
    ranges: NumberRanges
    notices: NoticeStore
    archive: DocumentArchive
    events: ProvisioningEvents
    policy: Policy
    setup: DunningSetup
    deliveries: DeliveryQueue | None = None
    runs: DunningRunStore | None = None
    render: Callable[[Notice], bytes] = render_notice

    def __post_init__(self) -> None:
        self.cases = CaseSteps(
            ledger=self.ledger,
            store=self.store,
            notices=self.notices,
            archive=self.archive,
            events=self.events,
            setup=self.setup,
            render=self.render,
        )

    def run_shard(self, request: DunningShardRequest) -> DunningShardResult:
        work = ShardWork(request, self.store.shard_state(request.shard))
        candidates = self._candidates(work)
        work.checked = len(candidates)
        due: list[tuple[Situation, Due]] = []
        for customer_id in candidates:
            try:
                found = self._look_at(work, customer_id)
            except (LookupError, ValueError) as error:
                work.fail(customer_id, str(error))
                continue
            if found is not None:
                due.append(found)
        self._load_customers(work, due)
        self._step_all(work, due)
        result = self._result(work)
        if self.runs is not None:
            self.runs.save_result(
                request.run_id, request.execution, request.shard, result.model_dump_json()
            )
        return result

    def settle(self, customer_id: str, *, on: date) -> SettleOutcome:
        return self.cases.settle(customer_id, on=on)

    def settle_all(self, customer_ids: Collection[str], *, on: date) -> dict[str, SettleOutcome]:
        return self.cases.settle_all(customer_ids, on=on)

    def _candidates(self, work: ShardWork) -> list[str]:
        after_days = self.policy.levels.level(1).after_days
        due_before = work.today - timedelta(days=after_days - 1)
        overdue = self.ledger.overdue_customers(work.request.shard, due_before)
        return sorted(set(overdue) | set(work.cases))

    def _look_at(self, work: ShardWork, customer_id: str) -> tuple[Situation, Due] | None:
        case = work.cases.get(customer_id)
        if case is not None and case.pending is not None:
            case = self._remember(work, customer_id, self.cases.complete(case))
        holds = work.state.holds.get(customer_id, Holds())
        account = self.ledger.account(customer_id)
        situation = Situation(customer_id, account, case, holds, work.today)
        evaluation = evaluate(situation, self.policy)
        if isinstance(evaluation, Due):
            return situation, evaluation
        if isinstance(evaluation, Settled):
            self._settle_in_run(work, situation)
        elif isinstance(evaluation, Excluded):
            work.excluded[evaluation.reason] += 1
        elif isinstance(evaluation, Idle) and evaluation.reason == "handed_over":
            work.handed_over.append(situation)
        return None

    @staticmethod
    def _remember(work: ShardWork, customer_id: str, case: Case | None) -> Case | None:
        if case is None:
            work.cases.pop(customer_id, None)
        else:
            work.cases[customer_id] = case
        return case

    def _load_customers(self, work: ShardWork, due: list[tuple[Situation, Due]]) -> None:
        exporting = [
            s.customer_id
            for s in work.handed_over
            if s.case and s.case.handover and s.case.handover.status == "pending_export"
        ]
        wanted = sorted({s.customer_id for s, _ in due} | set(exporting))
        if wanted:
            work.customers = self.customers.customers(work.request.shard, wanted)

    def _step_all(self, work: ShardWork, due: list[tuple[Situation, Due]]) -> None:
        with_notice = [
            s.customer_id
            for s, d in due
            if self.policy.levels.level(d.level).does("notice") and s.customer_id in work.customers
        ]
        blocks = self._blocks(work, with_notice)
        numbers = Assignment.of(blocks).numbers
        for situation, found in due:
            customer = work.customers.get(situation.customer_id)
            if customer is None:
                work.fail(situation.customer_id, "no customer record in the contracts table")
                continue
            number = (
                numbers.get(situation.customer_id) if situation.customer_id in with_notice else None
            )
            self._step(work, situation, found, customer, number)
        self._void_unused(work, blocks)

    def _step(
        self,
        work: ShardWork,
        situation: Situation,
        found: Due,
        customer: Customer,
        number: str | None,
    ) -> None:
        request = work.request
        context = StepContext(
            situation, found, customer, request.shard, request.run_id, number, self.policy
        )
        plan = plan_step(context)
        saved = self.store.save_case(plan.case)
        if saved is None:
            self._remember(work, customer.customer_id, self.store.case(customer.customer_id))
            work.fail(customer.customer_id, "its case changed meanwhile; the next run goes on")
            return
        self._remember(work, customer.customer_id, self.cases.complete(saved))
        logger.info(
            "dunning level reached",
            extra={
                "customer_id": customer.customer_id,
                "level": found.level,
                "notice_number": number,
                "run_id": request.run_id,
            },
        )

    def _settle_in_run(self, work: ShardWork, situation: Situation) -> None:
        case = situation.case
        assert case is not None
        reactivated, after = self.cases.settle_case(case, work.today, work.request.run_id)
        self._remember(work, case.customer_id, after)
        work.settled += 1
        work.reactivations += int(reactivated)
        if after is not None and after.handover is not None:
            line = payment_line(after, situation.account, work.today)
            if line is not None:
                work.payments.append(line)

    def _blocks(self, work: ShardWork, customer_ids: Sequence[str]) -> list[NumberBlock]:
        request = work.request
        number_range = range_key(self.setup.notice_prefix, work.today.year)
        blocks = self.ranges.blocks(number_range, request.run_id, request.shard)
        voided = self.ranges.voided(number_range, request.run_id, request.shard)
        missing = Assignment.of(blocks).missing(sorted(customer_ids), voided)
        if missing:
            block = self.ranges.reserve(
                number_range, request.run_id, request.shard, missing, work.today
            )
            blocks.append(block)
        return blocks

    def _void_unused(self, work: ShardWork, blocks: list[NumberBlock]) -> None:
        """Numbers of this run and shard that no notice took are recorded as void."""
        if not blocks:
            return
        request = work.request
        issued = {step.notice_number for step in todays_steps(work.cases, work.today)}
        number_range = blocks[0].number_range
        voided = self.ranges.voided(number_range, request.run_id, request.shard)
        for block in blocks:
            for customer_id, number in block.assignment().items():
                if number in issued or number in voided:
                    continue
                recorded = self.notices.void_number(
                    customer_id=customer_id,
                    issue_date=block.issue_date,
                    number=number,
                    reason=NO_NOTICE_REASON,
                )
                if recorded:
                    self.ranges.record_void(block=block, number=number, reason=NO_NOTICE_REASON)
                    logger.warning(
                        "notice number voided",
                        extra={"customer_id": customer_id, "notice_number": number},
                    )

    def _result(self, work: ShardWork) -> DunningShardResult:
        request = work.request
        steps = todays_steps(work.cases, work.today)
        levels = self.policy.levels
        emails, post = self._deliver(work)
        claims, payments = self._collections(work)
        return DunningShardResult(
            run_id=request.run_id,
            shard=request.shard,
            checked=work.checked,
            reached=dict(Counter(step.key for step in steps)),
            fees=total(step.fee for step in steps),
            interest=total(step.interest for step in steps),
            flat_fees=total(step.flat_fee for step in steps),
            suspensions=sum(levels.level(step.level).does("suspend") for step in steps),
            reactivations=work.reactivations,
            handovers=sum(levels.level(step.level).does("handover") for step in steps),
            settled=work.settled,
            excluded=dict(work.excluded),
            interest_deferred=sum(step.interest_deferred for step in steps),
            notices=tuple(sorted(step.notice_number for step in steps if step.notice_number)),
            announced=emails,
            post=post,
            claims=claims,
            payments=payments,
            failed=tuple(work.failed),
        )

    def _deliver(self, work: ShardWork) -> tuple[int, tuple[PostDocument, ...]]:
        """Announce every e-mail notice of today's run in this shard (again, on a retry: the
        sender sends each once); the post notices go into the run's print batch."""
        emails: list[DeliveryRequest] = []
        post: list[PostDocument] = []
        for case in work.cases.values():
            step = case.last_step
            if step is None or step.on != work.today or step.notice_number is None:
                continue
            key = document_key(case.customer_id, step.notice_number)
            if step.channel == "post":
                post.append(
                    PostDocument(
                        customer_id=case.customer_id, number=step.notice_number, pdf_key=key
                    )
                )
                continue
            emails.append(notice_delivery(work.request.run_id, case.customer_id, step, key))
        emails.sort(key=lambda request: request.number)
        if self.deliveries is not None and emails:
            self.deliveries.announce(emails)
        announced = len(emails) if self.deliveries is not None else 0
        return announced, tuple(sorted(post, key=lambda document: document.number))

    def _collections(
        self, work: ShardWork
    ) -> tuple[tuple[ClaimLine, ...], tuple[PaymentLine, ...]]:
        """Claims to export (handed over today, or not exported yet) and payments to report."""
        claims: list[ClaimLine] = []
        payments = list(work.payments)
        accounts = {s.customer_id: s.account for s in work.handed_over}
        for case in work.cases.values():
            handover = case.handover
            if handover is None or handover.settled_on is not None:
                continue
            if case.customer_id not in accounts and handover.on != work.today:
                continue
            account = accounts.get(case.customer_id) or self.ledger.account(case.customer_id)
            customer = work.customers.get(case.customer_id)
            if handover.status == "pending_export" and customer is not None:
                claims.append(claim_line(case, customer, account))
            line = payment_line(case, account, work.today)
            if line is not None:
                payments.append(line)
        return tuple(claims), tuple(payments)


def todays_steps(cases: dict[str, Case], today: date) -> list[Step]:
    return [
        case.last_step
        for case in cases.values()
        if case.last_step is not None and case.last_step.on == today
    ]


def notice_delivery(run_id: str, customer_id: str, step: Step, pdf_key: str) -> DeliveryRequest:
    assert step.notice_number is not None
    return DeliveryRequest(
        number=step.notice_number,
        customer_id=customer_id,
        run_id=run_id,
        issue_date=step.on,
        pdf_key=pdf_key,
        channel="email",
        attach_pdf=True,
        document="dunning",
    )


def suspension_event(case: Case, run_id: str) -> ProvisioningEvent:
    return ProvisioningEvent(
        detail_type="CustomerSuspended",
        event_id=f"{case.case_id}:suspended",
        customer_id=case.customer_id,
        case_id=case.case_id,
        reason=f"claim unpaid after dunning level {case.level_key}",
        level=case.level,
        level_key=case.level_key,
        run_id=run_id,
        occurred_on=case.suspended_on or case.since,
    )


def reactivation_event(case: Case, run_id: str, on: date) -> ProvisioningEvent:
    return ProvisioningEvent(
        detail_type="CustomerReactivated",
        event_id=f"{case.case_id}:reactivated",
        customer_id=case.customer_id,
        case_id=case.case_id,
        reason="claim paid in full",
        level=case.level,
        level_key=case.level_key,
        run_id=run_id,
        occurred_on=on,
    )


def claim_line(case: Case, customer: Customer, account: Account) -> ClaimLine:
    assert case.handover is not None
    items = [account.item(name) for name in case.handover.items]
    lines = tuple(
        NoticeLine(
            item=item.item,
            kind=item.kind,
            document_number=item.document_number,
            due_on=item.due_on,
            amount=item.amount,
            credited=item.credited,
            open=item.open,
            return_reason=item.return_reason,
        )
        for item in items
        if item is not None
    )
    principal = total(line.open for line in lines if line.kind not in {"dunning_fee", "interest"})
    fees = total(line.open for line in lines if line.kind == "dunning_fee")
    interest = total(line.open for line in lines if line.kind == "interest")
    return ClaimLine(
        agency_id=case.handover.agency_id,
        case_id=case.case_id,
        customer_id=customer.customer_id,
        name=customer.name,
        email=customer.email,
        address=customer.address,
        kind=customer.kind,
        handed_over_on=case.handover.on,
        items=lines,
        documents=case.handover.documents,
        principal=principal,
        fees=fees,
        interest=interest,
        total=principal + fees + interest,
    )


def payment_line(case: Case, account: Account, today: date) -> PaymentLine | None:
    """What was paid on a handed-over claim since the agency was last told; None if nothing."""
    handover = case.handover
    assert handover is not None
    found = [account.item(name) for name in handover.items]
    owed = total(item.open for item in found if item is not None and item.open > 0)
    open_now = max(owed - max(account.credit, ZERO), ZERO)
    paid = handover.claim_total - open_now
    settled = open_now <= 0
    if paid == handover.reported_paid and (not settled or handover.settlement_reported):
        return None
    return PaymentLine(
        agency_id=handover.agency_id,
        case_id=case.case_id,
        customer_id=case.customer_id,
        paid_since_handover=paid,
        newly_paid=paid - handover.reported_paid,
        open=max(open_now, Decimal(0)),
        status="settled" if settled else "partially_paid",
        reported_on=today,
    )
