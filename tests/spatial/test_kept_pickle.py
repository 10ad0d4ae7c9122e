"""The pickle channel between an API process and its helper sends held objects by key,
and arrays as their differences from held ones: what arrives equals what was sent (a
plain pickle of the same objects), however the two ends' messages interleave."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import shapely

from geogrid.workspace._kept_pickle import KeptChannel, OutOfStepError, array_edit, edit_array

TYPES = (np.ndarray, shapely.Geometry)


def ends() -> tuple[KeptChannel, KeptChannel]:
    return KeptChannel(TYPES, first=True), KeptChannel(TYPES)


def same(a: object, b: object) -> bool:
    """Equal as a plain pickle round trip sees them (arrays, geometries, containers)."""
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    if isinstance(a, shapely.Geometry):
        return bool(shapely.equals_identical(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)  # type: ignore[attr-defined]
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))  # type: ignore[arg-type]
    return a == b


def test_what_arrives_is_what_was_sent_and_held_objects_go_by_key() -> None:
    rng = np.random.default_rng(1)
    here, there = ends()
    raster = rng.integers(0, 50, 200_000).astype(np.int32)
    polygons = [shapely.box(i, 0, i + 1, 1) for i in range(50)]
    first = {"raster": raster, "polygons": polygons, "name": "v1"}
    got = there.loads(here.dumps(first))
    assert same(got, first)
    # sent again: the same objects arrive, as references to what that end holds
    second_bytes = here.dumps({**first, "name": "v2"})
    again = there.loads(second_bytes)
    assert again["raster"] is got["raster"]
    assert all(a is b for a, b in zip(again["polygons"], got["polygons"], strict=True))
    assert len(second_bytes) < len(pickle.dumps(first)) / 50
    # and back: the other end names them by the same keys
    back = here.loads(there.dumps(again))
    assert back["raster"] is raster
    assert back["polygons"][7] is polygons[7]


def test_arrays_of_polygons_go_as_keys_and_new_polygons_whole() -> None:
    here, there = ends()
    polygons = np.array([shapely.box(i, 0, i + 1, 1) for i in range(300)], dtype=object)
    mixed = np.array(["a", shapely.box(0, 0, 1, 1), None], dtype=object)
    got = there.loads(here.dumps({"polygons": polygons, "mixed": mixed}))
    assert same(got["polygons"].tolist(), polygons.tolist())
    assert same(got["mixed"].tolist(), mixed.tolist())
    # two reshaped, one new twice, one new also outside the array; the rest held
    changed = polygons.copy()
    changed[[3, 200]] = [shapely.box(3, 0, 4, 2), shapely.box(200, 0, 201, 3)]
    extra = shapely.box(9, 9, 10, 10)
    changed = np.append(changed, [extra, extra])
    message = here.dumps((extra, changed, polygons[:10]))
    lone, again, first_ten = there.loads(message)
    assert same(again.tolist(), changed.tolist())
    assert again[-1] is again[-2] is lone
    held = [i for i in range(300) if i not in (3, 200)]
    assert all(again[i] is got["polygons"][i] for i in held)
    assert all(a is b for a, b in zip(first_ten, got["polygons"][:10], strict=True))
    assert len(message) < len(pickle.dumps(changed)) / 10
    back = here.loads(there.dumps(again))
    assert all(back[i] is changed[i] for i in range(len(changed)))


def test_a_patched_raster_goes_as_its_changes_and_arrives_exact() -> None:
    rng = np.random.default_rng(2)
    here, there = ends()
    label = rng.integers(-1, 900, 1_000_000).astype(np.int32)
    offsets = np.cumsum(rng.integers(0, 4, 100_000)).astype(np.int64)
    held = there.loads(here.dumps([label, offsets]))
    for _ in range(5):
        window = rng.integers(0, len(label) - 5000)
        label = label.copy()
        label[window : window + 5000] = rng.integers(-1, 900, 5000)
        at = int(rng.integers(1, len(offsets) - 10))
        inserted = np.arange(offsets[at - 1], offsets[at - 1] + 7, dtype=np.int64)
        offsets = np.concatenate([offsets[:at], inserted, offsets[at + 3 :] + 4])
        message = here.dumps([label, offsets])
        assert len(message) < (label.nbytes + offsets.nbytes) / 20
        held = there.loads(message)
        assert held[0].dtype == label.dtype
        assert np.array_equal(held[0], label)
        assert held[1].dtype == offsets.dtype
        assert np.array_equal(held[1], offsets)


@pytest.mark.parametrize("seed", range(30))
def test_array_edit_rebuilds_any_array_from_any_other(seed: int) -> None:
    rng = np.random.default_rng(seed)
    dtype = rng.choice([np.int32, np.int64, np.bool_, np.float64])
    old = rng.integers(0, 5, int(rng.integers(0, 3000))).astype(dtype)
    new = old.copy()
    kind = seed % 4
    if kind == 0 and len(new):
        new[rng.integers(0, len(new), 5)] = 1
    elif kind == 1:
        at, cut = int(rng.integers(0, len(old) + 1)), int(rng.integers(0, 20))
        new = np.concatenate([old[:at], rng.integers(0, 5, 9).astype(dtype), old[at + cut :]])
    elif kind == 2 and dtype in (np.int32, np.int64):
        at = int(rng.integers(0, len(old) + 1))
        new = np.concatenate([old[:at], np.full(3, 2, dtype), old[at:] + 3])
    else:
        new = rng.integers(0, 5, int(rng.integers(0, 3000))).astype(dtype)
    edit = array_edit(old, new)
    if edit is not None:
        made = edit_array(old, edit)
        assert made.dtype == new.dtype
        assert np.array_equal(made, new)


def test_a_message_naming_what_the_other_end_lacks_is_out_of_step() -> None:
    here, there = ends()
    raster = np.arange(100_000)
    there.loads(here.dumps([raster]))
    there.clear()  # that end lost what it held, this one did not
    with pytest.raises(OutOfStepError, match="does not hold"):
        there.loads(here.dumps([raster]))
    here.clear()
    assert np.array_equal(there.loads(here.dumps([raster]))[0], raster)


def test_ends_keep_only_what_the_last_messages_reached() -> None:
    here, there = ends()
    old, new = np.arange(100_000), np.arange(100_000) * 3
    there.loads(here.dumps([old]))
    there.loads(here.dumps([new]))
    there.loads(here.dumps([new]))  # old is reached by no message since: let go
    assert len(here) == len(there) == 1
