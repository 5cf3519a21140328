"""A probe person matches another photo of themselves, and not other people."""

from __future__ import annotations

from auditor.faces.engine import ImageResult
from auditor.faces.probes import DEFAULT_PROBE_TOLERANCE, best_match, is_match


def test_probe_matches_another_photo_of_the_same_person(by_name: dict[str, ImageResult]) -> None:
    probe = [face.descriptor for face in by_name["obama_small.jpg"].faces]
    other_photo = [face.descriptor for face in by_name["32bit.png"].faces]
    distance = best_match(probe, other_photo)
    assert distance is not None and distance <= DEFAULT_PROBE_TOLERANCE
    assert is_match(distance)


def test_probe_does_not_match_other_people(by_name: dict[str, ImageResult]) -> None:
    probe = [face.descriptor for face in by_name["obama_small.jpg"].faces]
    pair = by_name["two_people.jpg"].faces  # Obama on the left, Biden on the right
    obama, biden = sorted(pair, key=lambda face: face.box[3])
    assert is_match(best_match(probe, [obama.descriptor]))
    assert not is_match(best_match(probe, [biden.descriptor]))
    johns = [r.faces[0].descriptor for name, r in by_name.items() if name.startswith("johns/")]
    nearest = best_match(probe, johns)
    assert nearest is not None and nearest > DEFAULT_PROBE_TOLERANCE


def test_empty_sides_and_the_inclusive_rule() -> None:
    assert best_match([], [(0.0,) * 128]) is None
    assert best_match([(0.0,) * 128], []) is None
    assert not is_match(None)
    assert best_match([(0.0, 0.0)], [(0.6, 0.0), (3.0, 4.0)]) == 0.6
    assert is_match(0.6) and not is_match(0.6000001)
