"""Hypothesis fuzz of project files (``.msproj``) and of the autosave folder.

Documents are drawn close to the real format (docs/session-format.md: format 2 with
``photos``, format 1 with one photo at the top level), then damaged: values replaced by
hostile ones (400-digit integers, 1e300, NaN / Infinity tokens, 1e400, negative numbers,
wrong types, deep nesting, long lists, bogus preset / backend / mode names), keys deleted or
added, and the bytes themselves (non-UTF-8, byte-order marks, duplicate keys, cut short).

``load_project`` must return a valid project, which saves and loads back equal, or raise
:class:`SessionError` with one line naming the file; never another exception, never more than
a few seconds. ``list_recoverable`` must list every good autosave however hostile the files
beside it are. ``MATTING_STUDIO_FUZZ_EXAMPLES`` sets the number of documents per property
(default 150, the same ones every run).
"""

from __future__ import annotations

import copy
import json
import math
import os
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from matting_studio.core import limits
from matting_studio.core.autosave import list_recoverable
from matting_studio.core.errors import SessionError
from matting_studio.core.matting import BACKENDS
from matting_studio.core.paths import autosave_dir
from matting_studio.core.project import (
    FORMAT_NAME,
    PHOTO_STATES,
    Project,
    load_project,
    save_project,
)
from matting_studio.core.segmentation import PRESETS
from matting_studio.core.trimap import STROKE_VALUES
from matting_studio.core.trimap_presets import TRIMAP_PRESETS

EXAMPLES = int(os.environ.get("MATTING_STUDIO_FUZZ_EXAMPLES", "150"))
"""Examples per property; the default run is the same every time, a longer one
(MATTING_STUDIO_FUZZ_EXAMPLES=3000) explores new documents each time."""
FIXED = "MATTING_STUDIO_FUZZ_EXAMPLES" not in os.environ
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=FIXED, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])
HANG_SECONDS = 20.0
"""A load that takes longer is a hang (not a speed target: loading is linear in the file's
size, and the largest files here, at the limits, take a few seconds)."""


# -- documents close to the real format -----------------------------------------------------------

def within(limit: limits.Limit):
    if limit.integer:
        return st.integers(int(limit.lo), int(limit.hi))
    return st.floats(limit.lo, limit.hi, allow_nan=False, allow_infinity=False)


names = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0/"),
                min_size=1, max_size=12)
paths = st.one_of(
    st.builds(lambda parts, ext: "/" + "/".join(parts) + ext, st.lists(names, min_size=1,
                                                                       max_size=4),
              st.sampled_from([".jpg", ".png", ".tif", ".JPG", ""])),
    st.sampled_from(["/home/ana/Photos/Fotó 日本 🌸.jpg", "C:\\Users\\ana\\photo.jpg",
                     "/photos/latin1_caf\udce9.jpg", "relative/photo.png"]))
json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                      st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=10))
json_values = st.recursive(json_leaf, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)),
    max_leaves=12)


@st.composite
def sources(draw):
    doc = {"path": draw(paths), "relative_path": draw(st.none() | paths)}
    if draw(st.booleans()):
        doc["sha256"] = draw(st.text("0123456789abcdefABCDEF", min_size=64, max_size=64))
        doc["size"] = draw(within(limits.FILE_SIZE))
    else:
        doc["sha256"] = doc["size"] = None
    return doc


@st.composite
def strokes(draw):
    n = draw(st.integers(0, 6))
    pts = draw(st.lists(st.tuples(within(limits.COORDINATE), within(limits.COORDINATE)),
                        min_size=n, max_size=n))
    return {"mode": draw(st.sampled_from(sorted(STROKE_VALUES))),
            "radius": draw(within(limits.BRUSH_RADIUS)), "points": [list(p) for p in pts]}


@st.composite
def adaptive(draw):
    lo, hi = sorted(draw(st.lists(within(limits.BAND_FRACTION), min_size=2, max_size=2)))
    return {"threshold": draw(within(limits.MASK_THRESHOLD)), "min_band": lo, "max_band": hi,
            "ramp_scale": draw(within(limits.RAMP_SCALE)),
            "edge_relief": draw(within(limits.UNIT_INTERVAL))}


def subset(draw, doc: dict) -> dict:
    """Some of ``doc``'s keys (missing keys take the defaults)."""
    keep = draw(st.lists(st.sampled_from(sorted(doc)), unique=True)) if doc else []
    return {k: doc[k] for k in keep}


@st.composite
def photos(draw):
    trimap = {"kernel_size": draw(within(limits.KERNEL_SIZE)),
              "iterations": draw(within(limits.ITERATIONS)),
              "threshold": draw(within(limits.MASK_THRESHOLD)),
              "fg_level": draw(within(limits.LEVEL)), "bg_level": draw(within(limits.LEVEL))}
    edges = {"smooth": draw(within(limits.EDGE_SMOOTH)),
             "feather": draw(within(limits.EDGE_FEATHER)),
             "contrast": draw(within(limits.EDGE_CONTRAST)),
             "shift": draw(within(limits.EDGE_SHIFT))}
    band = draw(adaptive())
    if draw(st.booleans()):  # min_band ≤ max_band: both or neither
        band.pop("min_band")
        band.pop("max_band")
    pipeline = {"trimap_preset": draw(st.sampled_from(sorted(TRIMAP_PRESETS))),
                "mask_tta": draw(st.booleans()), "adaptive": band, "edges": subset(draw, edges)}
    return {
        "source": draw(sources()),
        "user_trimap": draw(st.none() | st.builds(lambda p: {"path": p}, paths)),
        "trimap": subset(draw, trimap),
        "matting": {"backend": draw(st.sampled_from(sorted(BACKENDS)))},
        "model": {"path": draw(st.none() | paths),
                  "preset": draw(st.none() | st.sampled_from(sorted(PRESETS)))},
        "pipeline": subset(draw, pipeline),
        "view": draw(st.dictionaries(st.text(max_size=6), json_values, max_size=3)),
        "state": draw(st.sampled_from(PHOTO_STATES)),
        "strokes": draw(st.lists(strokes(), max_size=4)),
    }


@st.composite
def documents(draw):
    """A valid project document (format 2, or a format 1 single-photo file)."""
    if draw(st.integers(0, 4)) == 0:
        doc = draw(photos())
        doc.update(format=FORMAT_NAME, format_version=1)
        return doc
    entries = draw(st.lists(photos(), max_size=3))
    return {"format": FORMAT_NAME, "format_version": 2, "app_version": "0.2.0",
            "saved_at": "2026-12-01T10:10:00+00:00",
            "current": draw(st.integers(0, max(len(entries) - 1, 0))),
            "view": draw(st.dictionaries(st.text(max_size=6), json_values, max_size=3)),
            "photos": entries}


# -- damage ---------------------------------------------------------------------------------------

RAW = "\x00raw:"
"""A string value starting with this is written into the JSON text as the token after it."""
HOSTILE = {  # by kind, so that each kind is drawn as often as the others
    "huge": [10**400, -10**400, 2**63, 2**64 + 1, 1e300, -1e300, 5e-324, -1, -0.0, 0, 1.5],
    "token": [RAW + "NaN", RAW + "Infinity", RAW + "-Infinity", RAW + "1e400", RAW + "-1e400",
              RAW + "1" + "0" * 400 + ".5"],
    "type": [True, False, None, "", "7", "NaN", "bogus", "x" * 5000, [], {}, [1, 2], {"a": 1},
             [[1.5, 2.5]] * 3],
    "deep": [RAW + "[" * 50_000 + "]" * 50_000, RAW + '{"a":' * 5_000 + "1" + "}" * 5_000,
             [[[[[[[[[[[]]]]]]]]]]]],
    "stroke": [{"mode": "bogus", "radius": 1, "points": []},
               {"mode": "unknown", "radius": 1e300, "points": [[0, 0]]},
               {"mode": "foreground", "radius": 3, "points": [[10**400, 0]]},
               {"mode": "background", "radius": 3, "points": [[0, 0, 0]]}],
}
hostile_values = st.sampled_from(sorted(HOSTILE)).flatmap(
    lambda kind: st.sampled_from(HOSTILE[kind])).map(copy.deepcopy)
BOGUS_NAMES = {"backend": "bogus", "preset": "bogus", "trimap_preset": "bogus", "mode": "bogus",
               "state": "bogus", "format": "matting-studio-projekt"}


def places(doc, prefix=()):
    """Every (path, value) in ``doc``."""
    yield prefix, doc
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from places(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from places(v, prefix + (i,))


def _set(doc, path, value):
    target = doc
    for k in path[:-1]:
        target = target[k]
    target[path[-1]] = value


@st.composite
def damaged(draw):
    """(bytes of a damaged project file, how it was damaged)."""
    doc = draw(documents())
    how = []
    long_list = False
    for _ in range(draw(st.integers(1, 3))):
        spots = [p for p, _ in places(doc) if p]
        if not spots:
            break
        named = [p for p in spots if isinstance(p[-1], str)]
        # mostly a named field (not one of the many list items: points, view contents)
        path = draw(st.sampled_from(named if named and draw(st.integers(0, 4)) else spots))
        action = draw(st.sampled_from(["value", "value", "value", "name", "delete", "add",
                                       "wrap", "long list"]))
        parent = doc
        for k in path[:-1]:
            parent = parent[k]
        if action == "value":
            _set(doc, path, draw(hostile_values))
        elif action == "name":
            _set(doc, path, BOGUS_NAMES.get(path[-1], "bogus"))
        elif action == "delete":
            if isinstance(parent, dict):
                del parent[path[-1]]
            else:
                parent.pop(path[-1])
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["extra", "photos", "strokes", "size"]))] = \
                draw(hostile_values)
        elif action == "wrap":
            _set(doc, path, [draw(st.sampled_from([0, 1, 5]))] * 3)
        elif not long_list:  # a long list where a short one or a value was (once)
            long_list = True
            _set(doc, path, [[1.5, 2.5] for _ in range(draw(st.sampled_from([100, 10_000,
                                                                             100_000])))])
        how.append(f"{action} at {'.'.join(map(str, path))}")
    text = json.dumps(doc, ensure_ascii=draw(st.booleans()), allow_nan=True)
    text = _raw_tokens(text)
    assume(len(text) < 20_000_000)
    data = text.encode("utf-8", "surrogatepass")
    if draw(st.integers(0, 3)) == 0:
        kind = draw(st.sampled_from(["bom", "latin1", "cut", "duplicate key", "utf16",
                                     "garbage"]))
        how.append(kind)
        if kind == "bom":
            data = b"\xef\xbb\xbf" + data
        elif kind == "latin1":
            data = text.encode("latin-1", "replace")[:-1] + b"\xe9\xff}"
        elif kind == "cut":
            data = data[:draw(st.integers(0, max(len(data) - 1, 0)))]
        elif kind == "duplicate key":
            data = data.replace(b'"format_version": ', b'"format_version": 99, '
                                b'"format_version": ', 1)
        elif kind == "utf16":
            data = text.encode("utf-16", "surrogatepass")
        else:
            at = draw(st.integers(0, len(data)))
            data = data[:at] + draw(st.binary(min_size=1, max_size=20)) + data[at:]
    return data, "; ".join(how)


def _raw_tokens(text: str) -> str:
    """Replace every JSON string "\\u0000raw:TOKEN" by TOKEN itself."""
    marker = json.dumps(RAW)[:-1]  # the opening quote and the escaped prefix
    while marker in text:
        start = text.index(marker)
        end = text.index('"', start + len(marker))
        text = text[:start] + text[start + len(marker):end] + text[end + 1:]
    return text


# -- checks ---------------------------------------------------------------------------------------

def load_checked(path: Path) -> Project | None:
    """load_project's answer: a project, or None after a proper SessionError."""
    t0 = time.perf_counter()
    try:
        project = load_project(path)
    except SessionError as e:
        message = str(e)
        assert "\n" not in message and message.startswith(path.name + ": "), message
        assert len(message) < 400, message
        project = None
    elapsed = time.perf_counter() - t0
    assert elapsed < HANG_SECONDS, f"loading took {elapsed:.1f} s"
    return project


def assert_valid(project: Project, folder: Path) -> None:
    """A loaded project is usable: its numbers are finite and within the limits, and it saves
    and loads back equal."""
    assert 0 <= project.current <= max(len(project.photos) - 1, 0)
    for photo in project.photos:
        s = photo.settings
        assert s.backend in BACKENDS and s.trimap_preset in TRIMAP_PRESETS
        assert s.preset is None or s.preset in PRESETS
        for stroke in photo.strokes:
            assert math.isfinite(stroke.radius)
            assert all(math.isfinite(v) for p in stroke.points for v in p)
    again = folder / "again.msproj"
    save_project(again, project)
    back = load_project(again)
    assert back == project


@FUZZ
@given(doc=documents())
def test_valid_projects_load_and_round_trip(tmp_path_factory, doc):
    folder = tmp_path_factory.mktemp("valid")
    path = folder / "p.msproj"
    path.write_bytes(json.dumps(doc, ensure_ascii=False).encode("utf-8", "surrogatepass"))
    project = load_checked(path)
    assert project is not None, "a valid project was refused"
    entries = [doc] if doc["format_version"] == 1 else doc["photos"]
    assert len(project.photos) == len(entries)
    for photo, entry in zip(project.photos, entries):
        assert photo.source_path == entry["source"]["path"]
        assert len(photo.strokes) == len(entry["strokes"])
        assert photo.settings.backend == entry["matting"]["backend"]
        for key, value in entry["trimap"].items():
            assert getattr(photo.settings.trimap, key) == value
    assert_valid(project, folder)


@FUZZ
@given(case=damaged())
def test_damaged_projects_load_or_are_refused_in_one_line(tmp_path_factory, case):
    data, how = case
    event(f"damage: {how.split(' at ')[0]}")
    folder = tmp_path_factory.mktemp("damaged")
    path = folder / "p.msproj"
    path.write_bytes(data)
    project = load_checked(path)
    event("loaded" if project is not None else "refused")
    if project is not None:
        assert_valid(project, folder)


@settings(max_examples=max(EXAMPLES // 5, 10), deadline=None, derandomize=FIXED, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(good=st.lists(documents(), min_size=1, max_size=3), bad=st.lists(damaged(), max_size=4))
def test_recovery_lists_every_good_autosave_beside_hostile_ones(tmp_path_factory, good, bad):
    data_dir = tmp_path_factory.mktemp("data")
    folder = autosave_dir(data_dir)
    folder.mkdir(parents=True)
    for i, doc in enumerate(good):
        (folder / f"good{i}.msproj").write_text(json.dumps(doc), "utf-8", "surrogatepass")
    for i, (data, _) in enumerate(bad):
        (folder / f"hostile{i}.msproj").write_bytes(data)
    (folder / "folder.msproj").mkdir()
    found = {item.path.name for item in list_recoverable(data_dir)}
    assert {f"good{i}.msproj" for i in range(len(good))} <= found


# -- the large and the deep, one at a time --------------------------------------------------------

def _v2(photo_fields: str) -> str:
    return ('{"format": "matting-studio-project", "format_version": 2, "photos": [{"source": '
            '{"path": "/p.jpg"}' + photo_fields + "}]}")


LARGE = {
    "points at the limit": _v2(', "strokes": [{"mode": "unknown", "radius": 2, "points": ['
                               + ",".join(["[1.5, 2.5]"] * 1_000_000) + "]}]"),
    "points over the limit": _v2(', "strokes": [{"mode": "unknown", "radius": 2, "points": ['
                                 + ",".join(["[1, 2]"] * 1_000_001) + "]}]"),
    "strokes at the limit": _v2(', "strokes": [' + ",".join(
        ['{"mode": "unknown", "radius": 2, "points": [[1, 2], [3, 4]]}'] * 100_000) + "]"),
    "strokes over the limit": _v2(', "strokes": [' + ",".join(["{}"] * 100_001) + "]"),
    "photos at the limit": '{"format": "matting-studio-project", "format_version": 2, '
                           '"photos": [' + ",".join(['{"source": {"path": "/p.jpg"}}']
                                                    * 100_000) + "]}",
    "deep photos": '{"format": "matting-studio-project", "format_version": 2, "photos": '
                   + "[" * 100_000 + "]" * 100_000 + "}",
    "deep view": _v2(', "view": ' + '{"a": ' * 100_000 + "1" + "}" * 100_000),
    "long path": _v2("").replace('"/p.jpg"', '"/' + "a" * 1_000_000 + '"'),
    "kernel_size 50000": _v2(', "trimap": {"kernel_size": 50000}'),
    "iterations 1e9": _v2(', "trimap": {"iterations": 1e9}'),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(LARGE))
def test_large_and_deep_projects(tmp_path, name):
    path = tmp_path / "p.msproj"
    path.write_text(LARGE[name])
    project = load_checked(path)
    if "over the limit" in name or name in ("kernel_size 50000", "iterations 1e9"):
        assert project is None
    elif name == "photos at the limit":
        assert len(project.photos) == 100_000
    elif name == "points at the limit":
        assert len(project.photos[0].strokes[0].points) == 1_000_000
    elif name == "strokes at the limit":
        assert len(project.photos[0].strokes) == 100_000
    elif project is not None:
        assert_valid(project, tmp_path)


# -- cases the fuzz found (fixed) ------------------------------------------------------------------

@pytest.mark.skipif(os.name != "posix", reason="file names are bytes on POSIX only")
def test_a_photo_whose_name_is_not_utf8_saves_and_reopens(tmp_path):
    """Found by the fuzz: the name's lone surrogate was written as invalid UTF-8, and the
    project (or autosave) could never be opened again."""
    from matting_studio.core.project import PhotoEdit, project_bytes
    from matting_studio.core.trimap import Stroke

    photo = Path(os.fsdecode(os.fsencode(tmp_path) + b"/caf\xe9.jpg"))
    photo.write_bytes(b"\xff\xd8 not really a JPEG, only its bytes matter here")
    edit = PhotoEdit.for_image(photo, strokes=[Stroke("foreground", 4.0, ((1.0, 2.0),))])
    project = Project(photos=[edit])
    project_bytes(project).decode("utf-8")  # valid UTF-8
    saved = save_project(tmp_path / "p.msproj", project)
    back = load_project(saved)
    assert back == project
    assert os.fsencode(back.photos[0].source_path) == os.fsencode(photo)
    assert back.photos[0].find_source(saved).ok


def _refused(tmp_path, text: str) -> str:
    path = tmp_path / "p.msproj"
    path.write_text(text)
    with pytest.raises(SessionError) as e:
        load_project(path)
    message = str(e.value)
    assert "\n" not in message and message.startswith("p.msproj: ") and len(message) < 200
    return message


def test_a_number_too_large_for_a_float_is_refused(tmp_path):
    """1e400 reads as infinity: it loaded (in a view), and the project could not be saved."""
    assert "damaged" in _refused(tmp_path, _v2(', "view": {"zoom": 1e400}'))
    assert "damaged" in _refused(tmp_path, _v2(', "trimap": {"threshold": -1e400}'))


def test_an_unknown_model_preset_is_refused_when_the_project_is_read(tmp_path):
    message = _refused(tmp_path, _v2(', "model": {"path": null, "preset": "bogus"}'))
    assert "unknown model preset 'bogus'" in message and "u2netp" in message


def test_a_400_digit_format_version_is_damage_in_a_short_line(tmp_path):
    doc = '{"format": "matting-studio-project", "format_version": 1' + "0" * 400 + "}"
    assert "damaged" in _refused(tmp_path, doc)
