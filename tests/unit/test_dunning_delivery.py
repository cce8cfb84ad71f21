"""Notices through the paced sender: once each, with the letter attached; and the daily start."""

from __future__ import annotations

from datetime import UTC, date, datetime

from shared.delivery.service import DeliveryService
from shared.dunning.starter import DunningStarter
from shared.invoicing.starter import Execution, ExecutionExistsError, ScheduledStart
from tests.unit.dunning_fakes import World
from tests.unit.test_delivery import LETTERHEAD, Clock, Issued, Mailbox, MemoryLog
from tests.unit.test_dunning_scenarios import STEP_DAYS, unpaid


def notice_world(**kind: str) -> World:
    world = World()
    unpaid(world, 1, **kind)
    world.run_days(STEP_DAYS["reminder"], STEP_DAYS["first_notice"])
    return world


def sender(world: World, mailbox: Mailbox, log: MemoryLog) -> DeliveryService:
    return DeliveryService(
        mailer=mailbox,
        log=log,
        invoices=Issued(),
        archive=world.archive,
        letterhead=LETTERHEAD,
        clock=Clock(),
        notices=world.notices,
    )


def test_a_notice_is_mailed_once_with_its_letter_attached() -> None:
    world = notice_world()
    mailbox, log = Mailbox(), MemoryLog()
    service = sender(world, mailbox, log)
    request = world.queue.announced[-1]

    outcomes = [service.deliver(request), service.deliver(request)]

    assert outcomes == ["sent", "skipped"]
    (message,) = mailbox.sent
    assert message["Subject"] == "1. Mahnung MA-2026-00000002"
    assert message["To"].addresses[0].addr_spec == "kunde1@example.org"
    body = message.get_body(("plain",)).get_content()
    assert "Offener Betrag: 121,72 €" in body
    assert "Bitte zahlen Sie bis zum 12.02.2026." in body
    assert "https://portal.nordlicht.example/documents/MA-2026-00000002" in body
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == "MA-2026-00000002.pdf"
    assert attachment.get_content() == world.archive.objects[request.pdf_key]
    record = log.get(request.run_id, request.number)
    assert record is not None
    assert (record.status, record.attached_pdf) == ("sent", True)


def test_an_english_notice_gets_an_english_mail() -> None:
    world = notice_world(country="IE")
    mailbox = Mailbox()

    sender(world, mailbox, MemoryLog()).deliver(world.queue.announced[-1])

    body = mailbox.sent[0].get_body(("plain",)).get_content()
    assert body.startswith("Dear Jürgen Müller,")
    assert "Amount open: EUR 121.72" in body


def test_an_announced_notice_that_was_never_issued_fails_for_good() -> None:
    world = notice_world()
    request = world.queue.announced[-1].model_copy(update={"number": "MA-2026-00000099"})
    log = MemoryLog()

    outcome = sender(world, Mailbox(), log).deliver(request)

    assert outcome == "failed"
    record = log.get(request.run_id, request.number)
    assert record is not None
    assert "no issued dunning notice MA-2026-00000099" in (record.reason or "")


class Executions:
    def __init__(self, *, running: str | None = None, exists: bool = False) -> None:
        self.started: list[tuple[str, dict[str, object]]] = []
        self._running = running
        self._exists = exists

    def running(self, name_prefix: str) -> Execution | None:
        if self._running and self._running.startswith(name_prefix):
            return Execution(self._running, f"arn:{self._running}")
        return None

    def start(self, name: str, payload: dict[str, object]) -> Execution:
        if self._exists:
            raise ExecutionExistsError(name)
        self.started.append((name, payload))
        return Execution(name, f"arn:{name}")

    def named(self, name: str) -> Execution:
        return Execution(name, f"arn:{name}")


def test_the_schedule_starts_the_run_of_its_day_in_berlin_and_once() -> None:
    executions = Executions()
    late_evening_utc = ScheduledStart(scheduled_time=datetime(2026, 3, 3, 23, 30, tzinfo=UTC))

    started = DunningStarter(executions).start_scheduled(late_evening_utc)
    again = DunningStarter(Executions(exists=True)).start_scheduled(late_evening_utc)

    assert executions.started == [("dunning-2026-03-04-scheduled", {"run_date": "2026-03-04"})]
    assert (started.run_id, started.joined) == ("dunning-2026-03-04", False)
    assert (again.execution, again.joined) == ("dunning-2026-03-04-scheduled", True)


def test_a_start_while_the_day_runs_joins_it() -> None:
    executions = Executions(running="dunning-2026-03-04-scheduled")

    started = DunningStarter(executions).start(date(2026, 3, 4))

    assert executions.started == []
    assert (started.execution, started.joined) == ("dunning-2026-03-04-scheduled", True)
