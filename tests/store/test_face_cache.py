"""The face cache on SQLite and PostgreSQL: first writer wins, concurrent writers all succeed,
purge empties it."""

from __future__ import annotations

import random
import threading

from auditor.store import Store, new_cache_row


def rows(keys: list[int], fingerprint: str = "fp", width: int = 100) -> list:  # type: ignore[type-arg]
    return [
        new_cache_row(
            f"{k:064x}", fingerprint, width, 50, [[k, k + 1, k + 2, k + 3]], bytes([k % 256]) * 1024
        )
        for k in keys
    ]


def test_first_writer_wins_and_fingerprints_are_separate(store_url: str) -> None:
    with Store(store_url) as store:
        store.cache_faces(rows([1, 2, 3]))
        store.cache_faces(rows([2, 3, 4], width=999))  # 2 and 3 are cached already: kept
        store.cache_faces(rows([1], fingerprint="other", width=7))
        got = store.cached_faces([f"{k:064x}" for k in range(6)], "fp")
        assert {k: r.width for k, r in got.items()} == {
            f"{1:064x}": 100,
            f"{2:064x}": 100,
            f"{3:064x}": 100,
            f"{4:064x}": 999,
        }
        assert got[f"{2:064x}"].descriptors == bytes([2]) * 1024
        assert [r.width for r in store.cached_faces([f"{1:064x}"], "other").values()] == [7]
        assert store.purge_faces() == 5
        assert store.cached_faces([f"{k:064x}" for k in range(6)], "fp") == {}


def test_concurrent_writers_of_overlapping_frames_all_succeed(store_url: str) -> None:
    """Six stores (six connection pools) cache overlapping frames at the same moment."""
    Store(store_url).close()  # schema first: this test is about the cache
    start = threading.Barrier(6)
    errors: list[BaseException] = []

    def work(seed: int) -> None:
        keys = list(range(seed * 100, seed * 100 + 1200))  # each overlaps the next ones
        random.Random(seed).shuffle(keys)
        try:
            with Store(store_url) as store:
                start.wait()
                for i in range(0, len(keys), 300):
                    store.cache_faces(rows(keys[i : i + 300]))
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(s,)) for s in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert errors == []
    with Store(store_url) as store:
        wanted = [f"{k:064x}" for k in range(0, 1700)]
        got = store.cached_faces(wanted, "fp")
        assert len(got) == 1700
        assert all(r.descriptors == bytes([int(k, 16) % 256]) * 1024 for k, r in got.items())
