"""What the page restores from the collection a browser remembered (ui.collection_memory): pure choices."""

from __future__ import annotations

from ui.collection_memory import Restored, remember, restore

OFFERED = ["harbour", "orchard"]


def test_a_remembered_collection_that_still_exists_is_restored() -> None:
    assert restore(remember("orchard"), OFFERED, "harbour") == Restored("orchard", "", {"collection": "orchard"})


def test_nothing_remembered_or_anything_odd_is_the_served_collection_without_a_notice() -> None:
    for stored in (None, remember(None), remember("harbour"), "orchard", {"collection": 7}, {"collection": "  "}, []):
        assert restore(stored, OFFERED, "harbour") == Restored("harbour")


def test_a_gone_collection_falls_back_with_one_line_and_is_forgotten() -> None:
    back = restore(remember("spare"), OFFERED, "harbour")
    assert back.collection == "harbour" and back.remember == {"collection": None}
    assert back.notice == "Collection “spare”, chosen here before, no longer exists; questions are answered from harbour."
    long = restore({"collection": "x\n" * 200}, OFFERED, "harbour").notice
    assert "\n" not in long and len(long) < 200
