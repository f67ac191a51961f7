"""hq serve's workers keep big response buffers in the heap (hq/web/memory.py)."""

from __future__ import annotations

from hq.web import memory


def test_keep_heap_is_accepted_by_glibc():
    # mallopt answers 0 to an option or value it refuses: a wrong option number or a
    # threshold out of range would make this False.
    assert memory.keep_heap() is True
