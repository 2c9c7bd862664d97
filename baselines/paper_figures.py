"""The paper-figure contract: what a model draws for the leaderboard besides its sample grid.

A model's spec may define ``paper_figures(model, examples, seed) -> list[PaperFigure]`` (the
default draws none): named grids of images with a label per row and per column and a caption
saying what the figure is — ProGAN's stages, StyleGAN's style mixing and truncation rows,
BigGAN's truncation rows, IcGAN's edit rows, StackGAN's caption → Stage I / Stage II rows.
``examples`` (:class:`Examples`) is the head of the evaluation split (images, labels, captions) for figures that
start from real images or captions. The suite runner stores the grids as plain arrays in one
``figures-KEY.npz`` and the labels in its step record (:func:`save_figures`);
``genbench.report.paper_figures`` draws any such figure the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from genbench.errors import GenbenchError

EXAMPLES = 8  # head of the evaluation split handed to paper_figures
MAX_CELLS = 256  # images per figure: a figure is a page element, not a sample dump


@dataclass(frozen=True)
class Examples:
    """The head of the evaluation split: what a figure that starts from real data draws on."""

    images: np.ndarray  # uint8 N×C×H×W
    labels: np.ndarray | None = None  # int64 N
    captions: np.ndarray | None = None  # int64 N×L token ids
    vocabulary: tuple[str, ...] | None = None  # the captions' words (Dataset.vocabulary)

    def caption_text(self, i: int) -> str:
        from genbench.data.captioned import decode_caption

        return decode_caption(self.captions[i], self.vocabulary)


@dataclass
class PaperFigure:
    """One grid: ``images`` uint8 R×C×ch×H×W, ``rows``/``columns`` their labels (R and C of them),
    ``blank`` an optional R×C mask of cells to leave empty (e.g. a grid's corner)."""

    name: str  # short identifier, unique per model (a file key)
    title: str
    caption: str  # what the figure shows and how it was made (e.g. final G at each stage's resolution)
    images: np.ndarray
    rows: list[str]
    columns: list[str]
    blank: np.ndarray | None = None
    meta: dict = field(default_factory=dict)  # anything else worth recording (ψ values, layer ranges)

    def __post_init__(self) -> None:
        a = np.asarray(self.images)
        if a.dtype != np.uint8 or a.ndim != 5 or a.shape[2] not in (1, 3):
            raise GenbenchError(f"paper figure {self.name!r}: images must be uint8 R×C×ch×H×W (ch 1 or 3), "
                                f"got {a.dtype} {a.shape}")
        if a.shape[0] * a.shape[1] > MAX_CELLS or 0 in a.shape:
            raise GenbenchError(f"paper figure {self.name!r}: {a.shape[0]}×{a.shape[1]} cells (at most {MAX_CELLS}, none empty)")
        if len(self.rows) != a.shape[0] or len(self.columns) != a.shape[1]:
            raise GenbenchError(f"paper figure {self.name!r}: {len(self.rows)} row and {len(self.columns)} column labels "
                                f"for a {a.shape[0]}×{a.shape[1]} grid")
        if self.blank is not None and np.asarray(self.blank).shape != a.shape[:2]:
            raise GenbenchError(f"paper figure {self.name!r}: the blank mask must be {a.shape[0]}×{a.shape[1]}")
        self.images = a


def save_figures(file, figures: list[PaperFigure]) -> list[dict]:
    """Write the grids to ``file`` (an .npz path or open file: plain arrays, readable with
    ``allow_pickle=False``) and return the JSON-ready labels that go with them."""
    arrays, labels = {}, []
    names = [f.name for f in figures]
    if len(set(names)) != len(names):
        raise GenbenchError(f"paper figures must have distinct names, got {names}")
    for i, f in enumerate(figures):
        if not isinstance(f, PaperFigure):
            raise GenbenchError(f"paper_figures must return PaperFigure objects, got {type(f).__name__}")
        arrays[f"images_{i}"] = f.images
        blank = np.zeros(f.images.shape[:2], bool) if f.blank is None else np.asarray(f.blank, bool)
        arrays[f"blank_{i}"] = blank
        labels.append({"name": f.name, "title": f.title, "caption": f.caption, "rows": [str(r) for r in f.rows],
                       "columns": [str(c) for c in f.columns], "images": f"images_{i}", "blank": f"blank_{i}",
                       "meta": f.meta})
    with open(file, "wb") as fh:
        np.savez_compressed(fh, **arrays)
    return labels



ROWS = 4  # rows of samples in the sample-based figures


def truncation_rows(model, seed: int, psis=(1.0, 0.8, 0.6, 0.4, 0.2), n: int = ROWS) -> PaperFigure:
    """Rows of the same latent draws at each ψ (BigGAN Fig. 2, StyleGAN Fig. 8): columns ψ."""
    images = np.stack([model.sample(n, seed, truncation=float(p)) for p in psis], axis=1)
    return PaperFigure("truncation", "Truncation trick", (
        f"The same {n} latent draws (seed {seed}) sampled with ψ = {', '.join(f'{p:g}' for p in psis)}: "
        "lower ψ trades variety for typical-looking samples. ψ = 1 is the untruncated model."),
        images, [f"sample {i}" for i in range(n)], [f"ψ = {p:g}" for p in psis], meta={"psis": list(psis)})
