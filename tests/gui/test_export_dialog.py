"""The export dialog as a user meets it: Enter exports, the chosen kind stands out in the dark
and the light theme, and the bundled sample is never proposed to be written into the app."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialog, QFileDialog, QGroupBox

import matting_studio
from matting_studio.gui.export_dialog import (
    ExportDialog,
    contrast_ratio,
    export_folder,
    is_app_folder,
)
from matting_studio.gui.theme import apply_theme
from matting_studio.resources_path import SAMPLE_PHOTO, resource_path

pytestmark = pytest.mark.gui

KINDS = ("cutout", "alpha", "trimap")


def defaults_beside(photo: Path) -> dict[str, Path]:
    return {k: photo.with_name(f"{photo.stem}_{k}.png") for k in KINDS}


def never_asked(_parent, path):
    raise AssertionError(f"asked to overwrite {path}")


@pytest.fixture
def photo(tmp_path) -> Path:
    p = tmp_path / "shoot" / "portrait.png"
    p.parent.mkdir()
    p.write_bytes(b"not read by the dialog")
    return p


@pytest.fixture
def dialog(qtbot, photo):
    def make(**kw) -> ExportDialog:
        dlg = ExportDialog(defaults_beside(photo), photo, confirm_overwrite=never_asked, **kw)
        qtbot.addWidget(dlg)
        dlg.show()
        qtbot.waitExposed(dlg)
        dlg.activateWindow()  # keys go where a user's would
        qtbot.waitUntil(dlg.isActiveWindow, timeout=3000)
        return dlg
    return make


@pytest.fixture(params=["dark", "light"])
def scheme(request, qapp):
    style, palette, sheet = qapp.style().name(), qapp.palette(), qapp.styleSheet()
    apply_theme(qapp, request.param)
    yield request.param
    qapp.setStyleSheet(sheet)
    qapp.setStyle(style)
    qapp.setPalette(palette)


# ---------------------------------------------------------------------------- Enter
@pytest.mark.parametrize("key", [Qt.Key.Key_Return, Qt.Key.Key_Enter])
def test_enter_in_the_file_field_exports(qtbot, dialog, photo, key):
    dlg = dialog()
    browsed = []
    dlg.browse_button.clicked.connect(lambda: browsed.append(True))
    target = photo.with_name("typed.png")
    dlg.path_edit.setFocus()
    dlg.path_edit.clear()
    QTest.keyClicks(dlg.path_edit, str(target.with_suffix("")))  # ".png" is added
    QTest.keyClick(dlg.path_edit, key)
    assert browsed == [] and dlg._file_dialog is None
    assert dlg.result() == QDialog.DialogCode.Accepted and not dlg.isVisible()
    assert dlg.choice().path == target and dlg.choice().kind == "cutout"


def test_export_is_the_default_button_and_enter_on_a_kind_exports_it(qtbot, dialog, photo):
    dlg = dialog()
    assert dlg.export_button.isDefault() and not dlg.browse_button.isDefault()
    dlg.radios["cutout"].setFocus()
    QTest.keyClick(dlg.radios["cutout"], Qt.Key.Key_Down)  # the arrow keys move the choice
    assert dlg.kind() == "alpha" and dlg.path() == photo.with_name("portrait_alpha.png")
    QTest.keyClick(dlg.radios["alpha"], Qt.Key.Key_Return)
    assert dlg.choice().kind == "alpha" and dlg.choice().path == dlg.path()


def test_enter_with_a_bad_name_explains_and_stays_open(qtbot, dialog, photo):
    dlg = dialog()
    dlg.path_edit.setFocus()
    dlg.path_edit.setText(str(photo.parent / "missing-folder" / "x.png"))
    QTest.keyClick(dlg.path_edit, Qt.Key.Key_Return)
    assert dlg.isVisible() and dlg.choice() is None
    assert "does not exist" in dlg.error.text()
    dlg.path_edit.setText(str(photo))
    QTest.keyClick(dlg.path_edit, Qt.Key.Key_Return)
    assert "original" in dlg.error.text() and dlg.choice() is None


def test_browse_opens_a_file_dialog_that_fills_the_field(qtbot, dialog, photo):
    dlg = dialog()
    dlg.browse_button.click()
    files = dlg._file_dialog
    assert isinstance(files, QFileDialog) and files.isVisible()
    assert files.acceptMode() == QFileDialog.AcceptMode.AcceptSave
    chosen = photo.parent / "from_browse.png"
    files.fileSelected.emit(str(chosen))  # what the file dialog sends when the user picks
    files.close()
    assert dlg.path() == chosen
    dlg.set_kind("trimap")  # a name the user picked survives changing the kind
    assert dlg.path() == chosen


# ---------------------------------------------------------------------------- the choice shows
def card_colours(dlg: ExportDialog, image, kind: str) -> tuple[QColor, QColor]:
    """(outline, fill) of the kind's card as drawn: the left edge at mid-height and a point
    inside the card right of its text."""
    card = dlg.cards[kind]
    origin = card.mapTo(dlg, QPoint(0, 0))
    y = origin.y() + card.height() // 2
    ratio = image.devicePixelRatio()
    window = dlg.palette().window().color()
    edge = max((image.pixelColor(round((origin.x() + dx) * ratio), round(y * ratio))
                for dx in range(4)), key=lambda c: contrast_ratio(c, window))
    fill = image.pixelColor(round((origin.x() + card.width() - 12) * ratio), round(y * ratio))
    return edge, fill


def test_the_chosen_kind_stands_out(qtbot, dialog, scheme):
    dlg = dialog(kind="alpha")
    window = dlg.palette().color(QPalette.ColorRole.Window)
    highlight = dlg.palette().color(QPalette.ColorRole.Highlight)
    for chosen in ("alpha", "trimap", "cutout"):
        if chosen != dlg.kind():  # a click anywhere on the card chooses it
            card = dlg.cards[chosen]
            QTest.mouseClick(card, Qt.MouseButton.LeftButton, pos=QPoint(card.width() - 20, 8))
        assert dlg.kind() == chosen
        QApplication.processEvents()
        image = dlg.grab().toImage()
        colours = {k: card_colours(dlg, image, k) for k in KINDS}
        edge, fill = colours[chosen]
        # an outline of the theme's highlight hue that stands out against the dialog
        # (WCAG 1.4.11 asks 3:1 of a control's state), much more than the other cards' outline
        assert abs(edge.hslHue() - highlight.hslHue()) < 15, (scheme, edge.name())
        assert contrast_ratio(edge, window) >= 3.0, (scheme, edge.name(), window.name())
        for other in set(KINDS) - {chosen}:
            other_edge, other_fill = colours[other]
            assert contrast_ratio(edge, window) >= 2 * contrast_ratio(other_edge, window)
            assert contrast_ratio(fill, other_fill) > 1.25, (scheme, fill.name(), other_fill.name())
            assert not dlg.radios[other].font().bold()
        assert dlg.radios[chosen].font().bold()


# ---------------------------------------------------------------------------- where it proposes
@pytest.fixture
def pictures(tmp_path, monkeypatch) -> Path:
    """The user's Pictures folder (HOME is tmp_path/home for GUI tests)."""
    home = Path(os.environ["HOME"])
    (tmp_path / "xdg").mkdir(exist_ok=True)
    folder = home / "Pictures"
    folder.mkdir()
    return folder


def sample_defaults() -> dict[str, Path]:
    return defaults_beside(resource_path(SAMPLE_PHOTO))


def test_bundled_sample_is_exported_to_pictures(qtbot, pictures):
    sample = resource_path(SAMPLE_PHOTO)
    dlg = ExportDialog(sample_defaults(), sample, confirm_overwrite=never_asked)
    qtbot.addWidget(dlg)
    assert dlg.path() == pictures / "sample_astronaut_cutout.png"
    dlg.set_kind("trimap")
    assert dlg.path() == pictures / "sample_astronaut_trimap.png"
    assert not dlg.note.isHidden() and str(pictures) in dlg.note.text()
    dlg.accept()
    assert dlg.choice().path == pictures / "sample_astronaut_trimap.png"


def test_without_pictures_the_home_folder(qtbot):
    home = Path(os.environ["HOME"])
    assert not (home / "Pictures").exists()
    dlg = ExportDialog(sample_defaults(), resource_path(SAMPLE_PHOTO), kind="alpha")
    qtbot.addWidget(dlg)
    assert dlg.path() == home / "sample_astronaut_alpha.png"


def test_installed_package_folders_are_never_proposed_nor_accepted(qtbot, pictures):
    package = Path(matting_studio.__file__).resolve().parent
    inside = package / "resources" / "sample_astronaut.jpg"  # where a wheel installs the sample
    assert is_app_folder(inside.parent) and is_app_folder(resource_path(SAMPLE_PHOTO).parent)
    assert export_folder(inside.parent)[0] == pictures
    dlg = ExportDialog(defaults_beside(inside), inside)
    qtbot.addWidget(dlg)
    assert dlg.path().parent == pictures
    dlg.set_path(package / "gui" / "mine.png")
    assert "installation" in dlg.validate()


def test_an_ordinary_folder_is_kept(qtbot, photo, pictures):
    assert export_folder(photo.parent) == (photo.parent, None)
    dlg = ExportDialog(defaults_beside(photo), photo)
    qtbot.addWidget(dlg)
    assert dlg.path() == photo.with_name("portrait_cutout.png") and dlg.note.isHidden()


def test_a_vanished_folder_falls_back_to_pictures(qtbot, tmp_path, pictures):
    gone = tmp_path / "unplugged-card" / "DCIM" / "IMG_0001.JPG"
    dlg = ExportDialog(defaults_beside(gone), gone)
    qtbot.addWidget(dlg)
    assert dlg.path() == pictures / "IMG_0001_cutout.png"
    assert "no longer exists" in dlg.note.text()


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="permissions do not bind root (or exist on Windows)")
def test_a_read_only_folder_falls_back_to_pictures(qtbot, photo, pictures):
    photo.parent.chmod(0o555)
    try:
        dlg = ExportDialog(defaults_beside(photo), photo)
        qtbot.addWidget(dlg)
        assert dlg.path() == pictures / "portrait_cutout.png"
        assert "read-only" in dlg.note.text()
        dlg.set_path(photo.with_name("x.png"))
        assert "read-only" in dlg.validate()
    finally:
        photo.parent.chmod(0o755)


# ---------------------------------------------------------------------------- room for options
def test_option_groups_go_between_the_kinds_and_the_file(qtbot, dialog, photo):
    dlg = dialog()
    options = QGroupBox("Options")
    dlg.add_group(options)
    order = [dlg.body.itemAt(i).widget() for i in range(dlg.body.count())]
    assert order.index(dlg.kind_box) < order.index(options) < order.index(dlg.file_box)
    QTest.keyClick(dlg.path_edit, Qt.Key.Key_Return)
    assert dlg.choice().path == photo.with_name("portrait_cutout.png")
