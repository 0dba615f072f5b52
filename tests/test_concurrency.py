"""20 concurrent chat sessions against a real `topicchat serve` over loopback: no errors, no state crossing."""

from __future__ import annotations

import pytest

from topicchat.app.loadcheck import run_load, serving, summary
from topicchat.indexer.store import load_index


@pytest.fixture(scope="module")
def url(fake_index):
    with serving(fake_index) as address:
        yield address


def test_twenty_concurrent_sessions_get_answers_and_keep_their_own_state(fake_index, url):
    leaves = [t.id for t in load_index(fake_index).topics][:2]
    questions = ["which papers discuss telescope galaxy orbit?", "which papers discuss flour butter oven?"]
    results = run_load(url, 20, questions, focus_topics=leaves, timeout_s=120)
    figures = summary(results)
    problems = [e for r in results for e in r.errors + r.leaks]
    assert figures["errors"] == 0 and figures["leaks"] == 0, problems[:5]
    assert figures["answers"] == 40, "every session got both of its answers"
    assert sum(r.focus is not None for r in results) == 10, "half of the sessions set a topic focus"


@pytest.mark.parametrize("question", ["", "   ", "x" * 10_000, "¿Qué temas cubren la traducción automática?"])
def test_odd_questions_over_the_wire_get_an_answer_not_an_error(url, question):
    results = run_load(url, 1, [question], focus_topics=[], timeout_s=60)
    assert results[0].errors == [], results[0].errors


def test_overlapping_queries_keep_one_blas_thread_until_the_last_one_ends():
    """Two chats whose queries overlap: BLAS stays at one thread until both are done, then gets its threads
    back (each query restoring the limit on its own left the other running with every thread)."""
    import numpy as np  # noqa: F401 - loads the BLAS library
    from threadpoolctl import threadpool_info, threadpool_limits

    from topicchat.app.route import _ONE_BLAS_THREAD

    def blas_threads() -> set[int]:
        return {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}

    if not blas_threads():
        pytest.skip("no BLAS library that threadpoolctl can control")
    with threadpool_limits(2, user_api="blas"):
        before = blas_threads()
        _ONE_BLAS_THREAD.__enter__()  # chat A's query starts
        _ONE_BLAS_THREAD.__enter__()  # chat B's query starts while A's runs
        assert blas_threads() == {1}
        _ONE_BLAS_THREAD.__exit__(None, None, None)  # A's query ends first
        assert blas_threads() == {1}, "B still runs: the limit stays"
        _ONE_BLAS_THREAD.__exit__(None, None, None)
        assert blas_threads() == before
