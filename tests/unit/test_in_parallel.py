"""records.writer.in_parallel: the claims, updates and deletes of a chunk, PARALLEL_REQUESTS at a time."""

import threading
import time
from collections import Counter

import pytest

from bulkimport.records.writer import PARALLEL_REQUESTS, in_parallel


def test_every_item_is_worked_once_with_up_to_the_limit_at_a_time():
    done: Counter = Counter()
    running, most = [0], [0]
    lock = threading.Lock()

    def work(item: int) -> None:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.001)  # a request's wait: the other threads go on meanwhile
        with lock:
            running[0] -= 1
            done[item] += 1

    items = list(range(500))
    in_parallel(work, items)
    assert done == Counter(items)
    assert 1 < most[0] <= PARALLEL_REQUESTS


def test_the_first_error_stops_the_work_and_is_raised():
    done = []

    def work(item: int) -> None:
        if item == 40:
            raise RuntimeError("throttled")
        time.sleep(0.001)
        done.append(item)

    with pytest.raises(RuntimeError, match="throttled"):
        in_parallel(work, list(range(2000)))
    # The threads already at work finish their items; none takes another.
    assert 40 not in done and len(done) < 40 + 2 * PARALLEL_REQUESTS


@pytest.mark.parametrize("items", [[], [7]])
def test_no_item_or_one_is_worked_in_the_callers_thread(items):
    threads = []
    in_parallel(lambda item: threads.append(threading.current_thread()), items)
    assert threads == [threading.current_thread()] * len(items)
