"""Project files (``.msproj``): cases found by the project fuzz, each refused in one line or
read back exactly."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from matting_studio.core.errors import SessionError
from matting_studio.core.project import Project, load_project, save_project


def _v2(photo_fields: str) -> str:
    return ('{"format": "matting-studio-project", "format_version": 2, "photos": [{"source": '
            '{"path": "/p.jpg"}' + photo_fields + "}]}")


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
