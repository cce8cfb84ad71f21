"""The embedded AWS tunes the cycle collector while it runs, and gives the old tuning back."""

import gc

from localaws import embedded


def test_the_young_generation_collects_less_often_while_the_embedded_aws_runs() -> None:
    before = gc.get_threshold()

    with embedded._collections_for_a_region():
        during = gc.get_threshold()

    assert during[0] == embedded.YOUNG_COLLECTION > before[0]
    assert during[1:] == (100, 1000)
    assert gc.get_threshold() == before
