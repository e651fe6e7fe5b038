"""Batches: folders in, every output decided before any work, one photo's whole job."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from matting_studio import cli
from matting_studio.core.batch import (
    PlanError,
    check_name_template,
    collect_inputs,
    output_name,
    plan_batch,
)


def _photo(path, seed=0, size=(48, 64)):
    yy, xx = np.mgrid[:size[0], :size[1]]
    disc = np.hypot(yy - size[0] / 2, xx - size[1] / 2)
    rgb = np.zeros(size + (3,), np.uint8)
    rgb[..., 0] = np.where(disc < size[0] / 3, 230, 20)
    rgb[..., 1] = (xx * 3 + seed * 40).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rgb).save(path)
    return path


def test_a_folder_gives_its_photos_and_one_note_about_the_rest(tmp_path):
    shoot = tmp_path / "shoot"
    b, a = _photo(shoot / "b.png"), _photo(shoot / "a.jpg")
    (shoot / "notes.txt").write_text("x")
    (shoot / ".hidden.png").write_bytes(b"x")
    deep = _photo(shoot / "day2" / "c.png")
    found = collect_inputs([shoot])
    assert found.photos == [a, b] and not found.problems
    assert found.notes == ["shoot: skipped 1 file that are not photos and 1 subfolder "
                           "(use --recursive)"]
    found = collect_inputs([shoot], recursive=True)
    assert found.photos == [a, b, deep]
    assert found.notes == ["shoot: skipped 1 file that are not photos"]
    single = tmp_path / "x.tif"
    assert collect_inputs([single]).photos == [single]
    (tmp_path / "empty").mkdir()
    found = collect_inputs([tmp_path / "empty"])
    assert found.photos == [] and found.problems == ["empty: no photos in this folder"]


def test_outputs_beside_in_a_folder_and_by_template(tmp_path):
    a, b = tmp_path / "a.jpg", tmp_path / "b.png"
    items = plan_batch([a, b])
    assert [i.outputs.cutout for i in items] == [tmp_path / "a_cutout.png",
                                                  tmp_path / "b_cutout.png"]
    items = plan_batch([a, b], str(tmp_path / "out"), template="{n:03d}-{stem}.png")
    assert [i.outputs.cutout.name for i in items] == ["001-a.png", "002-b.png"]
    assert output_name("x/IMG_1.JPG", "{stem}_{ext}.png") == "IMG_1_JPG.png"
    for bad in ("{stem}/x.png", "{name}.png", "{stem", ""):
        with pytest.raises(PlanError):
            check_name_template(bad)


def test_clashing_outputs_are_refused_before_any_work(tmp_path):
    a_jpg, a_png = tmp_path / "a.jpg", tmp_path / "a.png"
    with pytest.raises(PlanError, match="would both be written to a_cutout.png"):
        plan_batch([a_jpg, a_png], str(tmp_path / "out"))
    assert len(plan_batch([a_jpg, a_png], str(tmp_path / "out"),
                          template="{stem}_{ext}_cutout.png")) == 2
    with pytest.raises(PlanError, match="both be written"):
        plan_batch([a_jpg], str(tmp_path / "c.png"), alpha_out=str(tmp_path / "c.png"))
    with pytest.raises(PlanError, match="both be written"):
        plan_batch([a_jpg], alpha_out=str(tmp_path / "m.png"),
                   trimap_out=str(tmp_path / "sub" / ".." / "m.png"))
    _photo(a_png)
    with pytest.raises(PlanError, match="a.png is an input file"):
        plan_batch([a_png], str(a_png))
    with pytest.raises(PlanError, match="single photo"):
        plan_batch([a_jpg, a_png], alpha_out="x.png")
    with pytest.raises(PlanError, match="cannot be a .gif file; use .png, .tif"):
        plan_batch([a_jpg], str(tmp_path / "c.gif"))
    with pytest.raises(PlanError, match="the trimap cannot be a .jpg file"):
        plan_batch([a_jpg], trimap_out=str(tmp_path / "t.jpg"))


def test_a_folder_of_photos_through_the_command(tmp_path, capsys):
    shoot = tmp_path / "shoot"
    for i, name in enumerate(("one.png", "two.jpg", "three.png")):
        _photo(shoot / name, seed=i)
    (shoot / "readme.md").write_text("x")
    out = tmp_path / "out"
    rc = cli.main(["cutout", str(shoot), "-o", str(out), "-q", "--matting", "cf"])
    err = capsys.readouterr().err
    assert rc == 0, err
    assert "note: shoot: skipped 1 file that are not photos" in err
    assert sorted(p.name for p in out.iterdir()) == ["one_cutout.png", "three_cutout.png",
                                                     "two_cutout.png"]
    for p in out.iterdir():
        assert Image.open(p).mode == "RGBA"


def test_a_bad_photo_is_one_line_and_the_rest_still_run(tmp_path, capsys):
    bad = tmp_path / "in" / "bad.png"
    bad.parent.mkdir()
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    good = _photo(tmp_path / "in" / "good.png")
    rc = cli.main(["cutout", str(bad), str(good), "-o", str(tmp_path / "out"), "-q",
                   "--matting", "cf"])
    err = capsys.readouterr().err
    assert rc == 1 and "Traceback" not in err
    assert "error: bad.png: the PNG file is truncated or damaged" in err
    assert "1 of 2 photo(s) failed" in err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["good_cutout.png"]
