"""Variables lent to a Lambda invocation, while other threads read the whole environment."""

import os
import sys
import threading
from collections.abc import Iterator

import pytest

from localaws.process_env import environment

LENT = {"BILLING_TEST_LENT_NAME": "worker", "BILLING_TEST_LENT_SIZE": "1024"}


@pytest.fixture
def switch_threads_often() -> Iterator[None]:
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


def test_variables_are_lent_and_taken_back() -> None:
    os.environ["BILLING_TEST_LENT_SIZE"] = "128"

    with environment(LENT):
        inside = {key: os.environ.get(key) for key in LENT}

    assert inside == LENT
    assert "BILLING_TEST_LENT_NAME" not in os.environ
    assert os.environ.pop("BILLING_TEST_LENT_SIZE") == "128"


@pytest.mark.usefixtures("switch_threads_often")
def test_whole_environment_reads_in_other_threads_never_see_a_key_vanish() -> None:
    failures: list[BaseException] = []
    lending = threading.Event()

    def read_whole_environment() -> None:
        while lending.is_set():
            try:
                os.environ.copy()
                dict(os.environ.items())
                list(os.environ.values())
            except KeyError as error:
                failures.append(error)
                return

    lending.set()
    reader = threading.Thread(target=read_whole_environment)
    reader.start()
    for _ in range(3_000):
        with environment(LENT):
            pass
    lending.clear()
    reader.join()

    assert failures == []
    assert "BILLING_TEST_LENT_NAME" not in os.environ
