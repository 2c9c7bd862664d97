"""The dataset contract every other stage relies on.

A dataset is a name resolved to splits of samples (``uint8`` images ``N×C×H×W``, float
points ``N×2``, or ``uint8`` voxel occupancy ``N×1×D×H×W`` with 0 = empty and 255 = occupied)
with optional integer labels, plus a *fingerprint* that every number computed
from it carries. Results with different fingerprints are never compared.

Image-to-image data adds ``inputs`` to a split; ``samples`` stay what outputs are scored against
(the targets). Paired data (pix2pix, super-resolution) has ``inputs[i]`` ↔ ``samples[i]``;
unpaired data (CycleGAN) holds two domains of any lengths, A in ``inputs`` and B in ``samples``,
that are read as two independently ordered streams. A split without inputs fingerprints exactly
as before inputs existed.

Text-conditioned data (``captioned-digits``) adds ``captions`` to a split: one caption per
sample as an int64 N×L array of token ids, 0 = padding, over the dataset's fixed
``Dataset.vocabulary`` (``vocabulary[0]`` is the padding token). Fixed-length ids keep captions
plain arrays (fingerprinted, batched like labels); data without captions fingerprints as before.

A paired split whose images differ in size (an SR test folder: Set5's five images have five
sizes) keeps arrays too: each target lies at the top-left of a zero canvas as large as the
largest, ``sizes[i]`` = its (H, W), and each input likewise with ``input_sizes``. Only the suite
runner's image-by-image translation and pair scoring read such a split (:func:`Split.target`,
:func:`Split.input`); feature statistics of it are refused. Data without sizes fingerprints as before.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from genbench.errors import GenbenchError

SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class Split:
    samples: np.ndarray  # uint8 N×C×H×W images, float32 N×2 points, uint8 N×1×D×H×W voxels (the targets)
    labels: np.ndarray | None = None  # int64 N (stacked-mnist: 0..999), or None
    inputs: np.ndarray | None = None  # uint8 M×C'×H'×W' input images of image-to-image data, or None
    paired: bool = True  # inputs[i] belongs to samples[i] (M = N); False: two unpaired domains
    input_labels: np.ndarray | None = None  # int64 M: class of each input of an unpaired domain A, or None
    captions: np.ndarray | None = None  # int64 N×L token ids of one caption per sample (0 = padding), or None
    sizes: np.ndarray | None = None  # int64 N×2 (H, W) of each target on its canvas, where sizes differ; or None
    input_sizes: np.ndarray | None = None  # int64 N×2 (H, W) of each input on its canvas (with sizes)

    def __post_init__(self) -> None:
        if (self.sizes is None) != (self.input_sizes is None):
            raise GenbenchError("a split of images of different sizes needs both sizes and input_sizes")
        if self.sizes is not None:
            if self.inputs is None or not self.paired:
                raise GenbenchError("only paired image-to-image splits may hold images of different sizes")
            for what, sizes, arr in (("sizes", self.sizes, self.samples), ("input_sizes", self.input_sizes, self.inputs)):
                if sizes.shape != (len(arr), 2) or sizes.min(initial=1) < 1 or (sizes > np.array(arr.shape[2:])).any():
                    raise GenbenchError(f"{what} must be one (H, W) per image within its {arr.shape[2]}×{arr.shape[3]} "
                                        f"canvas, got shape {sizes.shape}")
        if self.inputs is not None and self.paired and len(self.inputs) != len(self.samples):
            raise GenbenchError(f"paired split has {len(self.inputs)} inputs for {len(self.samples)} targets")
        if self.input_labels is not None and (self.inputs is None or len(self.input_labels) != len(self.inputs)):
            raise GenbenchError("input_labels need one label per input image")
        if self.captions is not None and (self.captions.ndim != 2 or len(self.captions) != len(self.samples)):
            raise GenbenchError(f"captions must be an N×L token array with one caption per sample, "
                                f"got shape {self.captions.shape} for {len(self.samples)} samples")

    def __len__(self) -> int:
        return int(self.samples.shape[0])

    def target(self, i: int) -> np.ndarray:
        """Target ``i`` at its own size (C×H×W)."""
        h, w = self.sizes[i] if self.sizes is not None else self.samples.shape[2:]
        return self.samples[i, :, :h, :w]

    def input(self, i: int) -> np.ndarray:
        """Input ``i`` at its own size (C×H×W)."""
        h, w = self.input_sizes[i] if self.input_sizes is not None else self.inputs.shape[2:]
        return self.inputs[i, :, :h, :w]


@dataclass(frozen=True)
class ModeSpec:
    """Where the modes of a synthetic 2-D mixture are, for ``mode_coverage_2d``."""

    means: np.ndarray  # K×2
    std: float


@dataclass(frozen=True)
class Task:
    """What an image-to-image dataset asks of a model, so that its outputs are scored by the
    task's protocol (recorded with every result):

    - ``sr``: super-resolution by ``scale``; PSNR/SSIM on the Y channel with ``scale`` pixels
      cropped per border, as the SR literature measures.
    - ``translation``: paired translation (pix2pix, SPADE): PSNR/SSIM/L1 vs target, FID of the
      outputs, and ``classifier``'s accuracy on the outputs against the targets' labels.
    - ``unpaired``: two domains (CycleGAN): per-direction FID, translation accuracy (label kept,
      from ``Split.input_labels`` / ``Split.labels``), cycle PSNR.
    - ``inpainting``: fill ``hole`` = (top, left, height, width) in target pixels; metrics on the
      hole and on the whole image.
    """

    kind: Literal["sr", "translation", "unpaired", "inpainting"]
    scale: int | None = None
    hole: tuple[int, int, int, int] | None = None
    classifier: str | None = None  # extractor whose class probabilities give the task accuracy

    def to_dict(self) -> dict:
        return {"kind": self.kind, "scale": self.scale, "hole": list(self.hole) if self.hole else None,
                "classifier": self.classifier}


@dataclass(frozen=True)
class Fingerprint:
    """Identity of the exact data a number was computed from."""

    name: str
    sizes: dict[str, int]
    sha256: str

    def to_dict(self) -> dict:
        return {"name": self.name, "sizes": dict(self.sizes), "sha256": self.sha256}

    @classmethod
    def from_dict(cls, d: dict) -> "Fingerprint":
        return cls(name=d["name"], sizes=dict(d["sizes"]), sha256=d["sha256"])

    @property
    def short(self) -> str:
        return f"{self.name}@{self.sha256[:12]}"


def compute_fingerprint(name: str, splits: dict[str, Split], vocabulary: tuple[str, ...] | None = None) -> Fingerprint:
    """sha256 over the name, each split's name, shape, dtype, sample bytes and label bytes (and,
    only where a split has inputs, their pairing, dtype, shape and bytes; only where it has
    captions, their shape and bytes; only where it has sizes, those of targets and inputs; only
    where a vocabulary is given, its words)."""
    h = hashlib.sha256(name.encode())
    if vocabulary is not None:
        h.update(b"|vocabulary|" + "\n".join(vocabulary).encode())
    for split_name in sorted(splits):
        split = splits[split_name]
        arr = np.ascontiguousarray(split.samples)
        h.update(f"|{split_name}|{arr.dtype.str}|{arr.shape}|".encode())
        h.update(arr.tobytes())
        if split.labels is not None:
            lab = np.ascontiguousarray(split.labels, dtype=np.int64)
            h.update(b"|labels|")
            h.update(lab.tobytes())
        if split.inputs is not None:
            inp = np.ascontiguousarray(split.inputs)
            h.update(f"|inputs|{'paired' if split.paired else 'unpaired'}|{inp.dtype.str}|{inp.shape}|".encode())
            h.update(inp.tobytes())
        if split.input_labels is not None:
            h.update(b"|input_labels|")
            h.update(np.ascontiguousarray(split.input_labels, dtype=np.int64).tobytes())
        if split.captions is not None:
            cap = np.ascontiguousarray(split.captions, dtype=np.int64)
            h.update(f"|captions|{cap.shape}|".encode())
            h.update(cap.tobytes())
        if split.sizes is not None:
            h.update(b"|sizes|" + np.ascontiguousarray(split.sizes, dtype=np.int64).tobytes())
            h.update(b"|input_sizes|" + np.ascontiguousarray(split.input_sizes, dtype=np.int64).tobytes())
    return Fingerprint(name=name, sizes={k: len(v) for k, v in sorted(splits.items())}, sha256=h.hexdigest())


@dataclass(frozen=True)
class Dataset:
    name: str
    kind: Literal["image", "points", "voxels"]
    splits: dict[str, Split]
    fingerprint: Fingerprint
    n_classes: int | None = None  # number of label values (10 for MNIST, 1000 for stacked MNIST)
    modes: ModeSpec | None = None  # for synthetic 2-D mixtures
    warnings: tuple[str, ...] = field(default_factory=tuple)  # e.g. "fell back to mnist-5k"
    source: str = ""  # human-readable provenance: file paths, generator parameters, licence
    task: Task | None = None  # image-to-image data: the task its outputs are scored by
    vocabulary: tuple[str, ...] | None = None  # captioned data: token id → word, id 0 = padding

    def __post_init__(self) -> None:
        with_captions = [k for k, s in self.splits.items() if s.captions is not None]
        if with_captions and self.vocabulary is None:
            raise GenbenchError(f"dataset {self.name!r} has captions but no vocabulary")
        for k in with_captions:
            caps = self.splits[k].captions
            if caps.size and (caps.min() < 0 or caps.max() >= len(self.vocabulary)):
                raise GenbenchError(f"dataset {self.name!r}: {k} captions hold token ids outside the "
                                    f"vocabulary of {len(self.vocabulary)} words")

    def split(self, name: str) -> Split:
        if name not in self.splits:
            raise GenbenchError(
                f"dataset {self.name!r} has no split {name!r}; available: {', '.join(self.splits)}"
            )
        return self.splits[name]

    @property
    def pairing(self) -> str | None:
        """'paired' or 'unpaired' for image-to-image data (read from the train split), else None."""
        split = self.splits.get("train") or next(iter(self.splits.values()))
        if split.inputs is None:
            return None
        return "paired" if split.paired else "unpaired"

    @property
    def image_shape(self) -> tuple[int, ...] | None:
        """``(C, H, W)`` for image datasets, None for points."""
        if self.kind != "image":
            return None
        return tuple(next(iter(self.splits.values())).samples.shape[1:])
