"""Projects (.msproj): save, reopen, reproduce; source checks; autosave and recovery."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from matting_studio.core.autosave import Autosaver, discard, list_recoverable
from matting_studio.core.errors import SessionError
from matting_studio.core.io import load_image
from matting_studio.core.paths import data_dir as default_data_dir
from matting_studio.core.photo_source import check_located, file_sha256
from matting_studio.core.pipeline import PipelineSettings, run_cutout
from matting_studio.core.project import (
    FORMAT_VERSION,
    PhotoEdit,
    Project,
    load_project,
    replay,
    replay_alpha,
    save_project,
)
from matting_studio.core.trimap import Stroke, TrimapParams

STROKES = [
    Stroke("foreground", 4.0, ((30.0, 30.0), (40.5, 33.25), (50.0, 40.0))),
    Stroke("background", 6.5, ((5.0, 5.0), (10.0, 60.0))),
    Stroke("unknown", 3.0, ((32.0, 32.0),)),
    Stroke("foreground", 2.0, ((31.0, 31.0), (33.0, 31.0))),
]


@pytest.fixture
def photo(tmp_path, astronaut_small):
    p = tmp_path / "photos" / "astro.png"
    p.parent.mkdir()
    small = (astronaut_small[::2, ::2] * 255).astype(np.uint8)  # 64×64: fast solves
    Image.fromarray(small).save(p)
    return p


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    d = tmp_path / "data"
    monkeypatch.setenv("MATTING_STUDIO_DATA_DIR", str(d))
    return d


def _v1(fields: bytes) -> bytes:
    """A format-1 project of one photo with ``fields`` (JSON members) added."""
    return (b'{"format": "matting-studio-project", "format_version": 1, "source": {"path": '
            b'"a.jpg", "sha256": "' + b"0" * 64 + b'", "size": 1}, ' + fields + b"}")


SETTINGS = PipelineSettings(trimap=TrimapParams(kernel_size=5, iterations=2), backend="cf")


def _edit(photo, **kw):
    return PhotoEdit.for_image(photo, strokes=list(STROKES), settings=SETTINGS,
                               view={"zoom": 2.5, "pan": [10, -3]}, **kw)


def _project(photo, **kw):
    return Project(photos=[_edit(photo, **kw)])


def _status(path, **kw):
    project = load_project(path)
    return project.photos[0].find_source(project.path, **kw)


def test_save_load_round_trip(tmp_path, photo):
    proj = _project(photo)
    path = save_project(tmp_path / "edit.msproj", proj)
    back = load_project(path)
    assert back == proj
    edit = back.photos[0]
    assert edit.strokes == STROKES and edit.view == {"zoom": 2.5, "pan": [10, -3]}
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["format"] == "matting-studio-project" and doc["format_version"] == FORMAT_VERSION
    assert doc["photos"][0]["source"]["sha256"] == file_sha256(photo)
    assert doc["photos"][0]["source"]["relative_path"] == "photos/astro.png"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_reopening_reproduces_trimap_and_alpha_with_the_real_model(tmp_path, photo):
    """The edit as the editor makes it, then save → load → replay: identical bytes."""
    proj = _project(photo)
    image = load_image(photo)
    original = run_cutout(image, SETTINGS, strokes=STROKES)
    save_project(tmp_path / "edit.msproj", proj)

    back = load_project(tmp_path / "edit.msproj").photos[0]
    status = back.find_source()
    assert status.ok
    image2 = load_image(status.path)
    trimap = replay(back, image2)
    assert trimap.tobytes() == original.trimap.tobytes()
    alpha = replay_alpha(back, image2, trimap)
    np.testing.assert_array_equal(alpha, original.alpha)


def test_user_trimap_projects_replay_without_the_model(tmp_path, photo):
    tri = np.zeros((64, 64), np.uint8)
    tri[10:54, 10:54] = 128
    tri[25:40, 25:40] = 255
    tp = tmp_path / "tri.png"
    Image.fromarray(tri).save(tp)
    proj = _project(photo, user_trimap_path=str(tp))
    save_project(tmp_path / "p.msproj", proj)
    back = load_project(tmp_path / "p.msproj").photos[0]
    from matting_studio.core.trimap import apply_strokes

    np.testing.assert_array_equal(replay(back, load_image(photo)), apply_strokes(tri, STROKES))


def test_never_saved_over_the_photo(photo):
    before = photo.read_bytes()
    with pytest.raises(SessionError, match="original"):
        save_project(photo, _project(photo))
    assert photo.read_bytes() == before


def test_save_into_missing_folder_is_a_session_error(tmp_path, photo):
    with pytest.raises(SessionError, match="does not exist"):
        save_project(tmp_path / "nope" / "p.msproj", _project(photo))


def test_unserialisable_view_is_refused_before_writing(tmp_path, photo):
    proj = _project(photo)
    proj.view = {"widget": object()}
    with pytest.raises(SessionError, match="view"):
        save_project(tmp_path / "p.msproj", proj)
    assert not (tmp_path / "p.msproj").exists()


@pytest.mark.parametrize("content,expect", [
    (None, "not found"),
    (b"", "empty"),
    (b"{\"format\": \"matting-studio-project\", \"format_v", "damaged"),
    (b"\xff\xfe\x00garbage", "damaged"),
    (b"[1, 2, 3]", "not a Matting Studio project"),
    (b'{"format": "something-else"}', "not a Matting Studio project"),
    (b'{"format": "matting-studio-project", "format_version": 99}', "newer Matting Studio"),
    (b'{"format": "matting-studio-project", "format_version": "1"}', "damaged"),
    (b'{"format": "matting-studio-project", "format_version": 1}', "damaged"),
    (b'{"format": "matting-studio-project", "format_version": 1, "source": {"path": "a.jpg",'
     b' "sha256": "00", "size": 1}, "trimap": {}, "strokes": []}', "source.sha256"),
    (_v1(b'"trimap": {}, "strokes": [{"mode": "paint", "radius": 1, "points": []}]'),
     "stroke 1"),
    (_v1(b'"trimap": {}, "strokes": [{"mode": "foreground", "radius": 1, '
         b'"points": [[NaN, 1]]}]'), "damaged"),
    (_v1(b'"trimap": {"kernel_size": 0}, "strokes": []'),
     "trimap.kernel_size must be a whole number from 1 to 31 (got 0)"),
    (_v1(b'"trimap": {"kernel_size": 1' + b"0" * 400 + b'}'),
     "trimap.kernel_size must be a whole number from 1 to 31 (got a 401-digit number)"),
    (_v1(b'"trimap": {"iterations": 1000000000}'), "trimap.iterations must be"),
    (_v1(b'"strokes": [{"mode": "unknown", "radius": 1' + b"0" * 400 + b', "points": []}]'),
     "radius must be"),
    (_v1(b'"strokes": [{"mode": "unknown", "radius": 2, "points": [[1' + b"0" * 400
         + b', 3]]}]'), "x must be"),
    (_v1(b'"pipeline": {"trimap_preset": "bogus"}'), "unknown trimap preset 'bogus'"),
    (_v1(b'"pipeline": {"adaptive": {"max_band": 1e300}}'), "pipeline.adaptive.max_band must"),
    (_v1(b'"matting": {"backend": "magic"}'), "unknown matting method 'magic'"),
    (_v1(b'"pipeline": {"mask_tta": "yes"}'), "mask_tta"),
    (b'{"format": "matting-studio-project", "format_version": 2, "photos": {}}', "photos"),
    (b'{"format": "matting-studio-project", "format_version": 2, "photos": [], "current": 3}',
     "current must be"),
])
def test_bad_project_files(tmp_path, content, expect):
    """Every bad value is refused at load, in one line naming the field (and the range)."""
    p = tmp_path / "bad.msproj"
    if content is not None:
        p.write_bytes(content)
    with pytest.raises(SessionError) as e:
        load_project(p)
    msg = str(e.value)
    assert expect in msg and msg.startswith("bad.msproj") and "\n" not in msg


def test_source_moved_with_its_folder_is_found(tmp_path, photo):
    proj = _project(photo)
    save_project(tmp_path / "edit.msproj", proj)
    new_home = tmp_path.parent / (tmp_path.name + "_moved")
    shutil.move(str(tmp_path), str(new_home))
    try:
        status = _status(new_home / "edit.msproj")
        assert status.state == "moved" and status.usable
        assert status.path == new_home / "photos" / "astro.png"
        assert "identical content" in status.message
    finally:
        shutil.move(str(new_home), str(tmp_path))


def test_source_renamed_is_found_by_content(tmp_path, photo):
    proj = _project(photo)
    save_project(tmp_path / "edit.msproj", proj)
    renamed = tmp_path / "archive" / "2024" / "IMG_0001.png"
    renamed.parent.mkdir(parents=True)
    photo.rename(renamed)
    status = _status(tmp_path / "edit.msproj")
    assert status.state == "moved" and status.path == renamed


def test_source_changed_and_missing(tmp_path, photo):
    proj = _project(photo)
    save_project(tmp_path / "edit.msproj", proj)
    Image.new("RGB", (64, 64), (1, 2, 3)).save(photo)
    status = _status(tmp_path / "edit.msproj")
    assert status.state == "changed" and not status.usable and "changed" in status.message
    photo.unlink()
    status = _status(tmp_path / "edit.msproj")
    assert status.state == "missing" and status.path is None
    assert "cannot be found" in status.message and "astro.png" in status.message


def test_search_dirs(tmp_path, photo):
    proj = _project(photo)
    save_project(tmp_path / "edit.msproj", proj)
    elsewhere = tmp_path.parent / (tmp_path.name + "_elsewhere")
    elsewhere.mkdir()
    try:
        target = elsewhere / "astro.png"
        photo.rename(target)
        status = _status(tmp_path / "edit.msproj", search_dirs=[elsewhere])
        assert status.state == "moved" and status.path == target
    finally:
        shutil.rmtree(elsewhere)


def test_a_located_photo_is_checked_by_its_content(tmp_path, photo):
    edit = _edit(photo)
    copy = tmp_path / "copy.png"
    copy.write_bytes(photo.read_bytes())
    assert check_located(copy, edit.fingerprint, edit.name).ok
    other = tmp_path / "other.png"
    Image.new("RGB", (64, 64), (9, 9, 9)).save(other)
    status = check_located(other, edit.fingerprint, edit.name)
    assert status.state == "changed" and "not the photo astro.png" in status.message


def test_file_sha256_streams(tmp_path):
    import hashlib

    p = tmp_path / "big.bin"
    data = os.urandom(3 * (1 << 20) + 17)
    p.write_bytes(data)
    assert file_sha256(p, chunk=65536) == hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------------------- data folder


def test_default_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("MATTING_STUDIO_DATA_DIR", str(tmp_path / "x"))
    assert default_data_dir() == tmp_path / "x"
    monkeypatch.delenv("MATTING_STUDIO_DATA_DIR")
    import sys

    if sys.platform.startswith("linux"):
        monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
        assert default_data_dir() == tmp_path / "xdg" / "matting-studio"
        monkeypatch.delenv("XDG_DATA_HOME")
        assert default_data_dir() == Path.home() / ".local" / "share" / "matting-studio"


# ---------------------------------------------------------------------------- autosave


def test_autosave_running_session_is_not_offered_but_a_dead_one_is(data_dir, photo):
    proj = _project(photo)
    running = Autosaver()
    running.save(proj)
    assert running.path.parent == data_dir / "autosave"
    assert list_recoverable() == []  # its owner is alive (lock held)

    crashed = Autosaver()
    proj2 = _project(photo)
    proj2.photos[0].strokes = STROKES[:2]
    crashed.save(proj2)
    crashed.release()  # what a crash does: the OS drops the lock, the file stays
    items = running.list_recoverable()
    assert len(items) == 1 and items[0].project.photos[0].strokes == STROKES[:2]
    assert items[0].project.photos[0].fingerprint == proj.photos[0].fingerprint
    assert "2 strokes" in items[0].description

    discard(items[0])
    assert list_recoverable() == []
    running.clear()
    assert list(Path(data_dir / "autosave").iterdir()) == []


def test_clean_close_leaves_nothing(data_dir, photo):
    with Autosaver() as a:
        a.save(_project(photo))
        assert a.path.exists()
    assert not a.path.exists() and not a.lock_path.exists()
    assert list_recoverable() == []


def test_recovered_work_is_saved_again_before_its_old_autosave_goes(data_dir, photo):
    crashed = Autosaver()
    crashed.save(_project(photo))
    crashed.release()
    item = list_recoverable()[0]
    successor = Autosaver()
    successor.adopt(item)
    assert not item.path.exists()
    assert load_project(successor.path) == item.project
    successor.clear()


def test_damaged_autosave_is_skipped(data_dir, photo):
    folder = data_dir / "autosave"
    folder.mkdir(parents=True)
    (folder / "broken.msproj").write_text("{not json")
    hostile = json.loads(project_text(_project(photo)))
    hostile["photos"][0]["trimap"]["kernel_size"] = int("9" * 400)
    (folder / "hostile.msproj").write_text(json.dumps(hostile))
    a = Autosaver()
    a.save(_project(photo))
    a.release()
    items = list_recoverable()
    assert [i.path for i in items] == [a.path]


def test_autosave_folder_unwritable_is_a_session_error(tmp_path, photo):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(SessionError) as e:
        Autosaver(data_dir=blocker).save(_project(photo))
    assert str(e.value).startswith("autosave failed: ")
    assert str(e.value).count("autosave failed") == 1


def project_text(project) -> str:
    from matting_studio.core.project import project_bytes

    return project_bytes(project).decode("utf-8")


# ---------------------------------------------------------------------------- stress


@pytest.mark.slow
def test_hundreds_of_strokes_and_undos_while_solves_run(data_dir, photo):
    """Rapid edits (with undos) while a latest-wins solver thread works on snapshots:
    the final alpha is the alpha of the final trimap, the autosave replays to the same
    trimap, and memory stays bounded."""
    import threading
    import tracemalloc

    from matting_studio.core.pipeline import auto_trimap, compute_mask
    from matting_studio.core.solve import SolveRequest, solve

    def compute_alpha(image, trimap, settings):
        return solve(SolveRequest.of(image, trimap, settings, with_foreground=False)).alpha
    from matting_studio.core.trimap import apply_strokes, draw_stroke

    image = load_image(photo)
    edit = PhotoEdit.for_image(photo)
    proj = Project(photos=[edit])
    settings = edit.settings
    mask = compute_mask(image, settings)
    base = auto_trimap(image, mask, settings)
    latest: dict = {"rev": 0, "trimap": base.copy()}
    results: dict = {}
    lock = threading.Lock()
    wake = threading.Event()
    stop = threading.Event()

    def solver():
        while not stop.is_set():
            wake.wait(0.05)
            wake.clear()
            with lock:
                rev, tri = latest["rev"], latest["trimap"].copy()
            if rev in results:
                continue
            alpha = compute_alpha(image, tri, settings)
            with lock:
                if rev == latest["rev"]:  # stale results are dropped
                    results.clear()
                    results[rev] = alpha

    worker = threading.Thread(target=solver, daemon=True)
    worker.start()
    autosaver = Autosaver()
    rng = np.random.default_rng(7)
    trimap = base.copy()
    tracemalloc.start()
    try:
        for i in range(250):
            if edit.strokes and rng.random() < 0.3:
                edit.strokes.pop()  # undo: replay from the base
                trimap = apply_strokes(base, edit.strokes)
            else:
                pts = tuple(map(tuple, rng.uniform(-5, 70, size=(rng.integers(1, 5), 2))))
                s = Stroke(("foreground", "background", "unknown")[i % 3],
                           float(rng.uniform(0.5, 6)), pts)
                edit.strokes.append(s)
                draw_stroke(trimap, s)  # incremental, as the editor paints
            with lock:
                latest["rev"] += 1
                latest["trimap"] = trimap.copy()
            wake.set()
            if __import__("time").monotonic() - autosaver.last_save > 0.25:
                autosaver.save(proj)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    deadline = __import__("time").monotonic() + 60
    while __import__("time").monotonic() < deadline:
        with lock:
            if latest["rev"] in results:
                break
        wake.set()
        __import__("time").sleep(0.02)
    stop.set()
    worker.join(timeout=30)

    final_trimap = apply_strokes(base, edit.strokes)
    np.testing.assert_array_equal(trimap, final_trimap)  # incremental == replay
    np.testing.assert_array_equal(results[latest["rev"]], compute_alpha(image, final_trimap,
                                                                        settings))
    autosaver.save(proj)
    autosaver.release()
    recovered = list_recoverable()[0].project.photos[0]
    np.testing.assert_array_equal(replay(recovered, image, mask=mask), final_trimap)
    # 250 edits of a 64×64 image: no history of arrays is kept alive.
    assert peak < 64 * 2**20, peak


@pytest.mark.slow
def test_repeated_open_of_a_large_image_keeps_memory_bounded(tmp_path):
    """Open / drop a 4 MP photo six times: resident memory does not keep growing."""
    import gc

    if not Path("/proc/self/statm").exists():
        pytest.skip("needs /proc")

    def rss() -> int:
        return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    big = tmp_path / "big.jpg"
    rng = np.random.default_rng(0)
    small = (rng.random((150, 200, 3)) * 255).astype(np.uint8)
    Image.fromarray(small).resize((2400, 1600)).save(big, quality=80)
    load_image(big)
    gc.collect()
    start = rss()
    for _ in range(6):
        img = load_image(big)
        assert img.size == (2400, 1600)
        del img
        gc.collect()
    grown = rss() - start
    assert grown < 100 * 2**20, f"resident memory grew by {grown / 2**20:.0f} MB"


def test_every_pipeline_setting_round_trips(tmp_path, photo):
    import dataclasses

    settings = PipelineSettings(trimap=TrimapParams(kernel_size=9, iterations=1),
                                backend="knn", trimap_preset="classic", mask_tta=False)
    assert {f.name for f in dataclasses.fields(settings)} <= set(
        dataclasses.asdict(settings))  # every field is a plain value or a dataclass
    proj = Project(photos=[PhotoEdit.for_image(photo, settings=settings,
                                               strokes=list(STROKES))])
    back = load_project(save_project(tmp_path / "s.msproj", proj))
    assert back.photos[0].settings == settings and back == proj


def test_unknown_pipeline_keys_are_ignored_and_bad_ones_refused(tmp_path, photo):
    path = save_project(tmp_path / "s.msproj", _project(photo))
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["photos"][0]["pipeline"]["added_by_a_later_version"] = {"x": 1}
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert load_project(path).photos[0].settings.backend == "cf"
    doc["photos"][0]["pipeline"] = ["not", "an", "object"]
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(SessionError, match="damaged"):
        load_project(path)


def test_format_1_projects_still_open(tmp_path, photo):
    """A single-photo project written by an earlier version opens as a one-photo shoot."""
    edit = _edit(photo)
    v1 = {"format": "matting-studio-project", "format_version": 1, "app_version": "0.1.0",
          **edit.to_dict(tmp_path / "old.msproj")}
    del v1["state"]
    (tmp_path / "old.msproj").write_text(json.dumps(v1), encoding="utf-8")
    back = load_project(tmp_path / "old.msproj")
    assert back.photos == [edit] and back.current == 0


def test_a_shoot_round_trips_with_its_current_photo(tmp_path, photo):
    other = tmp_path / "photos" / "b.png"
    Image.fromarray((np.random.default_rng(2).random((40, 50, 3)) * 255).astype(np.uint8)
                    ).save(other)
    proj = Project(photos=[_edit(photo), PhotoEdit.for_image(other, state="exported")],
                   current=1, view={"filmstrip": "quality"})
    back = load_project(save_project(tmp_path / "shoot.msproj", proj))
    assert back == proj and back.current == 1 and back.photos[1].state == "exported"
