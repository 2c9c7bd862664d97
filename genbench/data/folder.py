"""Any folder of images as a dataset, named by where it is:

- ``folder:PATH?size=N``: unconditional image data (CelebA, FFHQ, LSUN, yours) to train the
  baselines on and to measure against (Inception features, the default image extractor). Every
  image is centre-cropped to a square (side min(H, W), offsets rounded down) and resized to N×N
  with PIL's bicubic filter (antialiased when shrinking). An image smaller than N×N is refused,
  not upscaled: an upscaled image would put invented detail into the reference.
- ``srN:PATH`` (N = 2, 3 or 4): a super-resolution ×N test set (Set5, Set14, BSD100, DIV2K's HR
  images): ``test`` = the folder's HR images trimmed to a multiple of N (MATLAB modcrop), their
  inputs by the SR protocol's MATLAB-bicubic degrade (:mod:`genbench.imaging.sr`); ``train`` and
  ``val`` are the shipped photos' as in ``photos-sr4`` (at ×4 the very same arrays), so a suite
  trains on the photos and tests on the folder. Images are read as RGB, greyscale ones
  replicated to three channels (as BasicSR reads them: the models are trained on RGB photos).
  Test images of different sizes (Set5, BSD100) are kept on one zero canvas with their sizes
  (:class:`genbench.data.dataset.Split`): the suite runner translates and scores them image by
  image at their own size, and skips FID for them (Inception statistics of padded canvases would
  measure the padding). ``genbench eval bicubic --task sr4 --targets PATH`` scores a folder the
  same way outside a suite.

PATH is absolute, or relative to the data root (``--data-root``, else ``$GENBENCH_DATA``, else
``~/.cache/genbench/data``), so ``folder:celeba?size=64`` names the same data on every machine;
it may not contain ``..``, whitespace or ``?``. Files are read recursively by the one image
reader (:mod:`genbench.sources.folder`: pytorch-fid's nine suffixes in any case; other files are
skipped and the count recorded in the dataset's warnings). Every file's header, integrity and
pixel count are checked, and the whole dataset's size is checked, before any pixel is decoded.

Channels (``folder:``): greyscale when every image is greyscale, else RGB (greyscale images
replicated, alpha dropped), as ``genbench eval`` reads a folder.

Splits (``folder:``): if PATH holds ``train/``, ``val/`` and ``test/`` subfolders, they are the
splits (no image may lie outside them); otherwise the images are ordered by the sha256 of their
relative path and cut 80 / 10 / 10 % (val and test at least one image each), which does not
depend on how the files happen to be named or sorted. Within a split, images are in the order of
their relative paths. The fingerprint covers the pixels after preparation and the preparation
rule itself.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from genbench.errors import GenbenchError

FOLDER_USAGE = "folder:PATH?size=N"
SR_USAGE = "srN:PATH"
SR_SCALES = (2, 3, 4)
MIN_SIZE, MAX_SIZE = 8, 1024
# What a folder dataset may hold in memory (uint8 pixels of every split); the message names the
# numbers and what to do. CelebA (202,599 images) at 64×64 RGB is 2.5 GB; FFHQ at 256×256 is 13.8 GB.
MAX_DATASET_BYTES = 16 * 2**30
SPLIT_FRACTIONS = {"train": 0.8, "val": 0.1, "test": 0.1}
SPLIT_DIRS = ("train", "val", "test")
PREPARATION = ("centre square crop (side min(H, W), offsets floor((H - side) / 2), floor((W - side) / 2)), "
               "then PIL bicubic resize to {size}×{size} (antialiased); images smaller than {size}×{size} refused")
SR_PREPARATION = ("HR read as RGB (greyscale replicated), trimmed to a multiple of {scale} at the right and bottom "
                  "(MATLAB modcrop); LR = MATLAB-bicubic imresize by 1/{scale}, uint8")

_NAME = re.compile(r"^(folder|sr([1-9][0-9]*)):(.*)$", re.S)


@dataclass(frozen=True)
class FolderName:
    """A parsed ``folder:`` / ``srN:`` dataset name."""

    name: str
    path: str
    size: int | None = None  # folder: the square side
    scale: int | None = None  # srN: the scale

    def folder(self, data_root) -> Path:
        from genbench.data.mnist import resolve_data_root

        p = Path(self.path).expanduser()
        return p if p.is_absolute() else resolve_data_root(data_root) / p


def parse_name(name: str) -> FolderName | None:
    """``folder:PATH?size=N`` / ``srN:PATH`` → :class:`FolderName`; None for a name of another
    form; a malformed one of these forms is an error saying the form."""
    m = _NAME.match(name)
    if m is None:
        return None
    scheme, rest = m.group(1), m.group(3)
    usage = FOLDER_USAGE if scheme == "folder" else SR_USAGE
    path, _, query = rest.partition("?")
    if not path:
        raise GenbenchError(f"dataset {name!r}: no folder given; the form is {usage}")
    if any(c.isspace() for c in name):
        raise GenbenchError(f"dataset {name!r}: a dataset name holds no whitespace; link the folder to a path "
                            "without spaces")
    if ".." in Path(path).parts:
        raise GenbenchError(f"dataset {name!r}: the path may not contain '..' (it names run directories); give an "
                            "absolute path or one below the data root")
    options = {}
    for item in query.split("&") if query else ():
        key, sep, value = item.partition("=")
        if not sep or key in options:
            raise GenbenchError(f"dataset {name!r}: option {item!r} is not key=value given once; the form is {usage}")
        options[key] = value
    if scheme == "folder":
        unknown = set(options) - {"size"}
        if unknown or "size" not in options:
            raise GenbenchError(f"dataset {name!r}: give the image size and nothing else: {usage}, "
                                f"e.g. folder:{path}?size=64")
        size = options["size"]
        if not size.isdigit() or not MIN_SIZE <= int(size) <= MAX_SIZE:
            raise GenbenchError(f"dataset {name!r}: size must be an integer from {MIN_SIZE} to {MAX_SIZE}, got {size!r}")
        return FolderName(name, path, size=int(size))
    scale = int(m.group(2))
    if scale not in SR_SCALES:
        raise GenbenchError(f"dataset {name!r}: super-resolution scale {scale} is not one of "
                            f"{', '.join(map(str, SR_SCALES))}")
    if options:
        raise GenbenchError(f"dataset {name!r}: an SR test folder takes no options; the form is {usage}")
    return FolderName(name, path, scale=scale)


def expand_pattern(entry: str, data_root) -> tuple[str, ...] | None:
    """A suite's ``srN:*`` / ``folder:*?size=N`` → one dataset name per subfolder of the data root
    that holds image files (sorted; none when the data root has none). None: not a pattern."""
    from genbench.data.mnist import resolve_data_root
    from genbench.sources.folder import IMAGE_SUFFIXES

    m = _NAME.match(entry)
    if m is None or m.group(3).partition("?")[0] != "*":
        return None
    scheme, query = m.group(1), m.group(3).partition("?")[2]
    root = resolve_data_root(data_root)
    names = []
    for sub in sorted(root.iterdir()) if root.is_dir() else ():
        if sub.is_dir() and not any(c.isspace() for c in sub.name) and "?" not in sub.name and any(
                p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES for p in sub.rglob("*")):
            names.append(f"{scheme}:{sub.name}" + (f"?{query}" if query else ""))
    for n in names:
        parse_name(n)  # a bad option in the pattern fails here, not in a job
    if not names and query:
        parse_name(f"{scheme}:x?{query}")
    return tuple(names)


# ----------------------------------------------------------------------------- reading


def _images(folder: Path, parsed: FolderName) -> tuple[list[Path], list[Path]]:
    from genbench.sources.folder import IMAGE_SUFFIXES, _walk

    name = parsed.name
    if not folder.is_dir():
        below = "" if Path(parsed.path).expanduser().is_absolute() else \
            " (a relative path is read below the data root: --data-root or $GENBENCH_DATA)"
        raise GenbenchError(f"dataset {name!r}: no folder {folder}{below}")
    images, others = _walk(folder)
    if not images:
        raise GenbenchError(f"dataset {name!r}: no images in {folder} (searched recursively for "
                            f"{', '.join(IMAGE_SUFFIXES)})")
    return images, others


def _headers(files: list[Path]) -> dict[Path, tuple[str, int, int]]:
    """Every file's (mode, H, W), each checked before any pixel is decoded."""
    from tqdm.auto import tqdm

    from genbench.sources.folder import MAX_PAIR_PIXELS, check_image

    return {p: check_image(p, MAX_PAIR_PIXELS)
            for p in tqdm(files, desc="checking images", unit="file", leave=False, disable=None, mininterval=1.0)}


def _check_bytes(name: str, n: int, per_image: int) -> None:
    total = n * per_image
    if total > MAX_DATASET_BYTES:
        raise GenbenchError(f"dataset {name!r}: {n:,} images of {per_image:,} bytes are {total / 2**30:.1f} GiB, "
                            f"more than genbench holds for a dataset ({MAX_DATASET_BYTES / 2**30:g} GiB); "
                            "choose a smaller size or a folder with fewer images")


def _as_channels(image: np.ndarray, channels: int) -> np.ndarray:
    """C×H×W uint8 (1 or 3 channels) → ``channels`` channels (grey replicated, as PIL's L → RGB)."""
    return np.repeat(image, 3, axis=0) if channels == 3 and image.shape[0] == 1 else image


def square_resize(image: np.ndarray, size: int) -> np.ndarray:
    """C×H×W uint8 → C×size×size: centre square crop, then PIL bicubic (the folder preparation)."""
    from PIL import Image

    c, h, w = image.shape
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    crop = image[:, top:top + side, left:left + side]
    if side == size:
        return np.ascontiguousarray(crop)
    pil = Image.fromarray(crop[0] if c == 1 else np.ascontiguousarray(crop.transpose(1, 2, 0)))
    out = np.asarray(pil.resize((size, size), Image.BICUBIC), dtype=np.uint8)
    return out[None] if out.ndim == 2 else np.ascontiguousarray(out.transpose(2, 0, 1))


def _layout(folder: Path, files: list[Path], name: str) -> tuple[dict[str, list[Path]], str]:
    """The split of each file, and how it was decided (recorded in the source)."""
    rel = {p: p.relative_to(folder).as_posix() for p in files}
    if any((folder / d).is_dir() for d in SPLIT_DIRS):
        missing = [d for d in SPLIT_DIRS if not (folder / d).is_dir()]
        if missing:
            raise GenbenchError(f"dataset {name!r}: {folder} has split subfolders but no {', '.join(missing)}/; give "
                                "all of train/ val/ test/, or none (then the images are split 80/10/10 by a hash "
                                "of their path)")
        splits = {d: [p for p in files if rel[p].startswith(d + "/")] for d in SPLIT_DIRS}
        outside = [p for p in files if rel[p].split("/", 1)[0] not in SPLIT_DIRS]
        if outside:
            raise GenbenchError(f"dataset {name!r}: {outside[0]} lies outside train/ val/ test/ (with split subfolders "
                                "every image must be in one)")
        empty = [d for d, ps in splits.items() if not ps]
        if empty:
            raise GenbenchError(f"dataset {name!r}: {folder / empty[0]} holds no images")
        return splits, "the train/ val/ test/ subfolders"
    if len(files) < 3:
        raise GenbenchError(f"dataset {name!r}: {folder} holds {len(files)} image(s); train, val and test need at "
                            "least 3")
    ordered = sorted(files, key=lambda p: hashlib.sha256(rel[p].encode()).hexdigest())
    n = len(ordered)
    n_val = max(1, round(n * SPLIT_FRACTIONS["val"]))
    n_test = max(1, round(n * SPLIT_FRACTIONS["test"]))
    cut = {"train": ordered[:n - n_val - n_test], "val": ordered[n - n_val - n_test:n - n_test],
           "test": ordered[n - n_test:]}
    splits = {k: sorted(v, key=rel.get) for k, v in cut.items()}
    return splits, ("80/10/10 % of the images ordered by the sha256 of their relative path (val and test at least "
                    "one each); each split in relative-path order")


def _skipped_warning(folder: Path, others: list[Path]) -> tuple[str, ...]:
    if not others:
        return ()
    return (f"{len(others)} file(s) in {folder} are not images by their suffix and were skipped, e.g. "
            f"{others[0].relative_to(folder).as_posix()}",)


def _fingerprint(name: str, splits: dict, preparation: str):
    """The content fingerprint, with the preparation rule folded into its sha256."""
    from genbench.data.dataset import Fingerprint, compute_fingerprint

    fp = compute_fingerprint(name, splits)
    sha = hashlib.sha256(f"{fp.sha256}|preparation|{preparation}".encode()).hexdigest()
    return Fingerprint(name=fp.name, sizes=fp.sizes, sha256=sha)


def load_folder(name: str, data_root=None):
    """``folder:PATH?size=N`` → a :class:`Dataset` (see the module docstring)."""
    import PIL
    from tqdm.auto import tqdm

    from genbench.data.dataset import Dataset, Split
    from genbench.sources.folder import GREY_MODES, read_image

    parsed = parse_name(name)
    if parsed is None or parsed.size is None:
        raise GenbenchError(f"dataset {name!r} is not of the form {FOLDER_USAGE}")
    size, folder = parsed.size, parsed.folder(data_root)
    files, others = _images(folder, parsed)
    headers = _headers(files)
    for p, (_, h, w) in headers.items():
        if min(h, w) < size:
            raise GenbenchError(f"dataset {name!r}: {p} is {h}×{w} (H×W), smaller than the requested {size}×{size}; "
                                "give a smaller size or leave the image out")
    channels = 1 if all(mode in GREY_MODES for mode, _, _ in headers.values()) else 3
    _check_bytes(name, len(files), channels * size * size)
    layout, how = _layout(folder, files, name)
    splits = {}
    for split, paths in layout.items():
        arr = np.empty((len(paths), channels, size, size), dtype=np.uint8)
        for i, p in enumerate(tqdm(paths, desc=f"reading {split}", unit="image", leave=False, disable=None,
                                   mininterval=1.0)):
            arr[i] = square_resize(_as_channels(read_image(p), channels), size)
        splits[split] = Split(samples=arr)
    preparation = PREPARATION.format(size=size)
    return Dataset(
        name=name, kind="image", splits=splits, fingerprint=_fingerprint(name, splits, preparation),
        warnings=_skipped_warning(folder, others),
        source=(f"image folder {folder.resolve()} ({len(files)} images, {'RGB' if channels == 3 else 'greyscale'}); "
                f"{preparation}; PIL {PIL.__version__}; splits: {how}"),
    )


def load_sr_folder(name: str, data_root=None):
    """``srN:PATH`` → a :class:`Dataset` with an SR task (see the module docstring)."""
    from genbench.data.dataset import Dataset, Split, Task
    from genbench.data.sr import photos_train_val, train_val_source
    from genbench.imaging import sr
    from genbench.sources.folder import read_image

    parsed = parse_name(name)
    if parsed is None or parsed.scale is None:
        raise GenbenchError(f"dataset {name!r} is not of the form {SR_USAGE}")
    scale, folder = parsed.scale, parsed.folder(data_root)
    files, others = _images(folder, parsed)
    headers = _headers(files)
    trimmed = {p: (h - h % scale, w - w % scale) for p, (_, h, w) in headers.items()}
    for p, (h, w) in trimmed.items():
        if h < 2 * scale or w < 2 * scale:  # an LR of one pixel has no neighbours to interpolate from
            raise GenbenchError(f"dataset {name!r}: {p} is {headers[p][1]}×{headers[p][2]} (H×W), too small for "
                                f"×{scale} super-resolution (at least {2 * scale}×{2 * scale})")
    # one canvas as large as the largest image; a single size needs no sizes (see genbench.data.dataset)
    h, w = max(t[0] for t in trimmed.values()), max(t[1] for t in trimmed.values())
    _check_bytes(name, len(files), 3 * h * w + 3 * (h // scale) * (w // scale))
    hr = np.zeros((len(files), 3, h, w), dtype=np.uint8)
    lr = np.zeros((len(files), 3, h // scale, w // scale), dtype=np.uint8)
    for i, p in enumerate(files):
        img = sr.modcrop(_as_channels(read_image(p), 3), scale, where=str(p))
        hr[i, :, :img.shape[1], :img.shape[2]] = img
        small = sr.degrade(img, scale)
        lr[i, :, :small.shape[1], :small.shape[2]] = small
    sizes = np.array([trimmed[p] for p in files], dtype=np.int64)
    ragged = len(set(trimmed.values())) > 1
    test = Split(samples=hr, inputs=lr, paired=True, sizes=sizes if ragged else None,
                 input_sizes=sizes // scale if ragged else None)
    train, val = photos_train_val(scale)
    splits = {"train": train, "val": val, "test": test}
    preparation = SR_PREPARATION.format(scale=scale)
    return Dataset(
        name=name, kind="image", splits=splits, fingerprint=_fingerprint(name, splits, preparation),
        task=Task("sr", scale=scale), warnings=_skipped_warning(folder, others),
        source=(f"SR ×{scale} test images: {folder.resolve()} ({len(files)} images, relative-path order); "
                f"{preparation}; train and val: photos-sr4's, inputs at ×1/{scale} ({train_val_source()})"),
    )


def describe(parsed: FolderName) -> str:
    """The registry description of one folder dataset."""
    if parsed.scale is not None:
        return f"super-resolution ×{parsed.scale} test images from {parsed.path}; train/val: photos-sr4's"
    return f"the images of {parsed.path}, centre-cropped and resized to {parsed.size}×{parsed.size}"


def load(name: str, data_root=None):
    """Load a ``folder:`` or ``srN:`` dataset by its name."""
    parsed = parse_name(name)
    if parsed is None:
        raise GenbenchError(f"dataset {name!r} is not of the form {FOLDER_USAGE} or {SR_USAGE}")
    return (load_folder if parsed.scale is None else load_sr_folder)(name, data_root)
