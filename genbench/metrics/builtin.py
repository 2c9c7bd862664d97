"""The built-in metrics' registrations: each declaration next to its compute function, which
turns what the evaluation pass gathered (:class:`~genbench.metrics.registry.MetricInputs`) into
the metric library's arguments and records how the numbers were made in their ``params``.

A third-party metric looks the same: a :class:`MetricSpec` with a ``compute`` function, registered
with :func:`register_metric` or through the ``genbench.metrics`` entry-point group.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from genbench.errors import GenbenchError
from genbench.metrics.fid import fid, fid_infinity, frechet_distance
from genbench.metrics.image_quality import psnr, ssim
from genbench.metrics.inception_score import inception_score
from genbench.metrics.kid import kid
from genbench.metrics.memorization import encode_images, memorization
from genbench.metrics.modes import class_mode_coverage, mode_coverage_2d
from genbench.metrics.parzen import parzen_log_likelihood, select_parzen_sigma
from genbench.metrics.prdc import prdc
from genbench.metrics.registry import Column, MetricInputs, MetricSpec, register_metric
from genbench.metrics.result import MetricResult
from genbench.metrics.translation import classifier_accuracy, crop_region, l1


def _with_params(result: MetricResult, **extra) -> MetricResult:
    return dataclasses.replace(result, params={**dict(result.params), **extra})


# ---------------------------------------------------------------------------- feature metrics


def _fid(x: MetricInputs) -> list[MetricResult]:
    fake = x.fake
    if x.stats is not None:
        from genbench.stats import ReferenceStats  # genbench.stats imports the feature stack: only here

        dim = np.asarray(x.stats.mu).shape[0]
        if dim != fake.features.shape[1]:
            raise GenbenchError(
                f"the statistics have {dim} dimensions but extractor {fake.extractor.name} gives "
                f"{fake.features.shape[1]} for these samples; pass the extractor (and images) they were made with"
            )
        fs = ReferenceStats.from_features(fake)
        r = frechet_distance(x.stats.mu, x.stats.sigma, fs.mu, fs.sigma, device=x.device)
        return [_with_params(r, n_real=x.n_real, n_fake=len(fake), reference="statistics file")]
    r = fid(x.real.features, fake.features, bootstrap=x.bootstrap, seed=x.seed, device=x.device)
    return [_with_params(r, n_real=len(x.real), n_fake=len(fake))]


def _fid_inf(x: MetricInputs) -> list[MetricResult]:
    """FID∞ extrapolates in the number of *generated* samples (Chong & Forsyth), so the generated
    features are the ones subsampled, against all the reference's."""
    if len(x.fake) < 4:
        raise GenbenchError(f"fid_inf needs at least 4 generated samples to fit a line, got {len(x.fake)}")
    r = fid_infinity(x.fake.features, x.real.features, seed=x.seed, device=x.device)
    return [_with_params(r, n_real=len(x.real), n_fake=len(x.fake))]


def kid_subset_size(n_real: int, n_fake: int, max_subset_size: int = 1000) -> int:
    """KID's subset size: ``min(max_subset_size, n // 2)`` with ``n`` the smaller set.

    KID's std is the spread of MMD² over random subsets; subsets as large as the sets are all
    the whole set, and the std is 0 (the mnist suite's n = 1000 did exactly that), which tells a
    gate the number has no noise. Half the samples is the largest size whose subsets differ
    substantially (two of them share about half their rows), so the spread is real. MMD²'s
    variance falls roughly as 1/m, so the std at n/2 overstates that of the full-size estimate by
    about √2: a gate reading it errs towards calling a change noise. From n ≥ 2·max_subset_size
    on, this is the usual 1000 of torch-fidelity and clean-fid, and the numbers are unchanged.
    """
    return max(2, min(int(max_subset_size), min(n_real, n_fake) // 2))


def _kid(x: MetricInputs, *, subsets: int, max_subset_size: int) -> list[MetricResult]:
    size = kid_subset_size(len(x.real), len(x.fake), max_subset_size)
    r = kid(x.real.features, x.fake.features, subsets=subsets, subset_size=size, seed=x.seed, device=x.device)
    return [_with_params(r, n_real=len(x.real), n_fake=len(x.fake), max_subset_size=max_subset_size)]


def _is(x: MetricInputs, *, splits: int) -> list[MetricResult]:
    if x.fake.probs is None:
        raise GenbenchError(f"extractor {x.fake.extractor.name} has no classifier head: 'is' needs class probabilities")
    return [_with_params(inception_score(x.fake.probs, splits=splits), n_fake=len(x.fake))]


def _prdc(x: MetricInputs, *, k: int) -> list[MetricResult]:
    return [_with_params(r, n_real=len(x.real), n_fake=len(x.fake))
            for r in prdc(x.real.features, x.fake.features, k=k, device=x.device)]


# ---------------------------------------------------------------------------- dataset metrics


def _modes(x: MetricInputs) -> list[MetricResult]:
    ds = x.dataset
    if x.kind == "points":
        return mode_coverage_2d(x.samples, ds.modes.means, ds.modes.std)
    probs = x.fake.probs
    if probs is None or probs.shape[1] != ds.n_classes:
        k = None if probs is None else probs.shape[1]
        raise GenbenchError(
            f"'modes' on {ds.name} needs a classifier over its {ds.n_classes} classes; extractor "
            f"{x.fake.extractor.name} gives {k if k else 'no'} class probabilities (use --extractor mnist-classifier)"
        )
    # KL against the uniform class histogram, as in the stacked-MNIST literature (VEEGAN, PacGAN)
    return [_with_params(r, labels="argmax of the extractor's class probabilities", n_fake=len(x.fake))
            for r in class_mode_coverage(np.argmax(probs, axis=1), ds.n_classes)]


def _modes_check(kind, ds) -> str | None:
    if kind == "points" and ds.modes is None:
        return f"dataset {ds.name!r} does not define its modes"
    if kind != "points" and ds.n_classes is None:
        return f"dataset {ds.name!r} has no classes to count"
    return None


def _real_subset(samples: np.ndarray, n: int) -> np.ndarray:
    """The same n samples of a split that the cached real features use (a fixed seeded subset)."""
    from genbench.stats import subset_indices  # genbench.stats imports the feature stack: only here

    idx = subset_indices(samples.shape[0], n)
    return samples if idx is None else samples[idx]


def _flat_pixels(x: np.ndarray) -> np.ndarray:
    return x.reshape(x.shape[0], -1).astype(np.float32) / np.float32(255.0)


# σ grids: Goodfellow et al.'s for pixels in [0, 1] (the metric library's default); for 2-D
# points a wider one, since the toy mixtures' own σ (0.01, 0.05) lies below 0.1.
PARZEN_SIGMAS_POINTS = np.logspace(-3, 1, 25)


def _parzen(x: MetricInputs) -> list[MetricResult]:
    """Goodfellow et al. (2014): fit a Gaussian Parzen window on the generated samples, choose
    sigma by log-likelihood of the val split, report the log-likelihood of the evaluated split."""
    ds, split = x.dataset, x.split
    val = ds.split("val").samples
    val = _real_subset(val, min(x.n_real, len(val)))
    test = _real_subset(ds.split(split).samples, x.n_real)
    if x.kind == "image":
        gen, val, test, scale, sigmas = _flat_pixels(x.samples), _flat_pixels(val), _flat_pixels(test), "pixels / 255, flattened", None
    else:
        gen, val, test = x.samples, val.astype(np.float64), test.astype(np.float64)
        scale, sigmas = "raw coordinates", PARZEN_SIGMAS_POINTS
    if split == "val":
        x.warnings.append("parzen: sigma was chosen on the val split and scored on it too (optimistic)")
    sigma, table = select_parzen_sigma(gen, val, sigmas, device=x.device)
    grid = sorted(table)
    if sigma in (grid[0], grid[-1]) and len(grid) > 1:
        x.warnings.append(
            f"parzen: the chosen sigma {sigma:.4g} lies at the edge of the searched grid "
            f"[{grid[0]:.4g}, {grid[-1]:.4g}]; the log-likelihood may be underestimated"
        )
    r = parzen_log_likelihood(gen, test, sigma, device=x.device)
    return [_with_params(r, sigma=float(sigma), sigma_chosen_on="val", scored_on=split, data=scale,
                         n_kernels=int(gen.shape[0]), n_val=int(val.shape[0]), n_test=int(test.shape[0]),
                         sigma_search={str(k): float(v) for k, v in table.items()})]


def _parzen_check(kind, ds) -> str | None:
    return None if "val" in ds.splits else f"dataset {ds.name!r} has no val split to choose sigma on"


def _memorized(x: MetricInputs, *, percentile: float, n_examples: int, k_examples: int) -> list[MetricResult]:
    """Nearest training samples of the generated ones, against held-out real data's (see
    :mod:`genbench.metrics.memorization`); image examples carry their pixels for the report."""
    ds = x.dataset
    train = ds.split("train").samples
    held = _real_subset(ds.split(x.split).samples, x.n_real)
    if x.split == "train":
        x.warnings.append("memorized: the reference split is the training split, so it is not held out; "
                          "the threshold is 0 and the statistic meaningless")
    if x.kind == "image":
        gen, tr, ho, space = _flat_pixels(x.samples), _flat_pixels(train), _flat_pixels(held), "pixels / 255, L2"
    else:
        gen, tr, ho, space = x.samples, train.astype(np.float64), held.astype(np.float64), "coordinates, L2"
    r = memorization(gen, tr, ho, percentile=percentile, n_examples=n_examples, k_examples=k_examples)
    examples = r.params["examples"]
    if x.kind == "image":
        for e in examples:
            e["images"] = encode_images(np.concatenate([x.samples[e["sample"]][None], train[e["train"]]]))
    else:
        for e in examples:
            e["points"] = [[float(v) for v in x.samples[e["sample"]]]] + [[float(v) for v in train[j]] for j in e["train"]]
    return [_with_params(r, space=space, held_out_split=x.split, train_split="train")]


def _memorized_check(kind, ds) -> str | None:
    return None if "train" in ds.splits else f"dataset {ds.name!r} has no train split to look for copies in"


# ---------------------------------------------------------------------------- pair metrics


def _pairs64(x: MetricInputs) -> tuple[np.ndarray, np.ndarray]:
    """Both uint8: quantising before scoring is what a saved output would be (data_range 255)."""
    a, b = x.pairs
    return a.astype(np.float64), b.astype(np.float64)


# The SR protocol's options (see genbench.metrics.image_quality); the defaults score every channel
# of the whole image, as psnr/ssim always did.
PAIR_PROTOCOL_PARAMS = {"y_channel": False, "crop_border": 0}


def _psnr(x: MetricInputs, *, y_channel: bool = False, crop_border: int = 0) -> list[MetricResult]:
    r = psnr(*_pairs64(x), data_range=255.0, y_channel=y_channel, crop_border=crop_border)
    return [_with_params(r, data_range=255, dtype="uint8")]


def _ssim(x: MetricInputs, *, y_channel: bool = False, crop_border: int = 0) -> list[MetricResult]:
    r = ssim(*_pairs64(x), data_range=255.0, y_channel=y_channel, crop_border=crop_border)
    return [_with_params(r, data_range=255, dtype="uint8")]


def _l1(x: MetricInputs) -> list[MetricResult]:
    return [_with_params(l1(*_pairs64(x), data_range=255.0), data_range=255, dtype="uint8")]


# ---------------------------------------------------------------------------- image-to-image task metrics
IMAGE_TO_IMAGE_METRICS = ("l1", "task_accuracy", "hole", "cycle_psnr", "inverse", "source_only_accuracy", "lpips")
# Scored by the image-to-image protocols (genbench.translations), which know what each output
# should be: its target, its input's class, its hole. The task's classifier is the extractor.


def _task_of(ds, kind: str | None = None, what: str = ""):
    task = getattr(ds, "task", None) if ds is not None else None
    if task is None:
        return f"dataset {getattr(ds, 'name', '?')!r} is not an image-to-image dataset (it has no task)"
    if kind is not None and task.kind != kind:
        return f"it scores {what}, and dataset {ds.name!r} is a {task.kind} task"
    return None


def _labels_of(x: MetricInputs, metric: str) -> np.ndarray:
    if x.labels is None:
        raise GenbenchError(f"{metric} needs the class each output should have; the suite runner supplies it "
                            "when it scores an image-to-image model's translations of labelled inputs")
    if x.fake is None or x.fake.probs is None:
        raise GenbenchError(f"{metric} needs class probabilities; extractor "
                            f"{getattr(getattr(x.fake, 'extractor', None), 'name', '?')} has no classifier head")
    return np.asarray(x.labels)


def _classifier_check(kind, ds) -> str | None:
    why = _task_of(ds)
    if why is None and ds.task.classifier is None:
        why = f"dataset {ds.name!r}'s task names no classifier"
    return why


def _task_accuracy(x: MetricInputs) -> list[MetricResult]:
    r = classifier_accuracy(x.fake.probs, _labels_of(x, "task_accuracy"))
    return [_with_params(r, classifier=x.fake.extractor.name)]


def _caption_consistency(x: MetricInputs) -> list[MetricResult]:
    r = classifier_accuracy(x.fake.probs, _labels_of(x, "caption_consistency"), name="caption_consistency")
    return [_with_params(r, classifier=x.fake.extractor.name)]


def _captions_check(kind, ds) -> str | None:
    if not any(getattr(s, "captions", None) is not None for s in ds.splits.values()):
        return f"dataset {ds.name!r} has no captions"
    return None


def _source_only(x: MetricInputs) -> list[MetricResult]:
    r = classifier_accuracy(x.fake.probs, _labels_of(x, "source_only_accuracy"), name="source_only_accuracy")
    return [_with_params(r, classifier=x.fake.extractor.name,
                         scored="the classifier on untranslated target-domain (B) images against their labels")]


def _hole(x: MetricInputs) -> list[MetricResult]:
    """PSNR, SSIM and L1 of the task's hole region alone (the pixels the model had to invent)."""
    region = tuple(x.dataset.task.hole)
    a, b = (crop_region(p, region) for p in _pairs64(x))
    where = {"region": list(region), "region_is": "(top, left, height, width) of the hole, target pixels"}
    return [dataclasses.replace(_with_params(psnr(a, b, data_range=255.0), **where), name="psnr_hole"),
            dataclasses.replace(_with_params(ssim(a, b, data_range=255.0), **where), name="ssim_hole"),
            dataclasses.replace(_with_params(l1(a, b, data_range=255.0), **where), name="l1_hole")]


def _hole_check(kind, ds) -> str | None:
    why = _task_of(ds, "inpainting", "an inpainting hole")
    if why is None and ds.task.hole is None:
        why = f"dataset {ds.name!r}'s inpainting task declares no hole"
    return why


def _cycle_psnr(x: MetricInputs) -> list[MetricResult]:
    """PSNR of A → B → A against A: the pairs are (domain-A inputs, their cycle reconstructions)."""
    r = psnr(*_pairs64(x), data_range=255.0)
    return [dataclasses.replace(_with_params(r, data_range=255, pairs="(input A, inverse(forward(A)))"),
                                name="cycle_psnr")]


def _inverse(x: MetricInputs) -> list[MetricResult]:
    """The B → A direction: FID of the inverse outputs against domain A, and the classifier's
    accuracy on them against the B images' labels."""
    f = _fid(x)[0]
    out = [dataclasses.replace(f, name="fid_ba")]
    if x.labels is not None and x.fake.probs is not None:
        out.append(dataclasses.replace(_task_accuracy(x)[0], name="task_accuracy_ba"))
    return out


def _unpaired_check(kind, ds) -> str | None:
    return _task_of(ds, "unpaired", "two unpaired domains")


def _unpaired_classifier_check(kind, ds) -> str | None:
    return _unpaired_check(kind, ds) or _classifier_check(kind, ds)


# ---------------------------------------------------------------------------- model metrics
# Input "model": the suite runner loads the checkpoint and hands it over (MetricInputs.model). A
# column that does not apply to a model is recorded in x.not_applicable with the reason.


def _ppl(x: MetricInputs, *, n: int, epsilon: float, spaces: list, samplings: list, distance: str,
         batch_size: int) -> list[MetricResult]:
    from genbench.metrics.ppl import paths_problem, perceptual_path_length

    out = []
    for space in spaces:
        why = paths_problem(x.model, space)
        for sampling in samplings:
            if why:
                x.not_applicable[f"ppl_{space}_{sampling}"] = why
                continue
            out.append(perceptual_path_length(x.model, n, epsilon=epsilon, space=space, sampling=sampling,
                                              distance=distance, seed=x.seed, batch_size=batch_size))
    if out and out[0].params["distance"] != "lpips":
        x.warnings.append(f"ppl: distance is {out[0].params['distance']}, not LPIPS (its weights are absent or "
                          "another distance was asked for): not comparable with the paper's numbers")
    return out


def _ppl_params(p) -> str | None:
    from genbench.metrics.ppl import DISTANCES, SAMPLINGS, SPACES

    for key, allowed in (("spaces", SPACES), ("samplings", SAMPLINGS)):
        v = p.get(key)
        if not isinstance(v, (list, tuple)) or not v or any(e not in allowed for e in v):
            return f"ppl {key} must be a non-empty list of {', '.join(allowed)}, got {v!r}"
    if isinstance(p.get("n"), bool) or not isinstance(p.get("n"), int) or p["n"] < 2:
        return f"ppl n must be an integer >= 2, got {p.get('n')!r}"
    e = p.get("epsilon")
    if isinstance(e, bool) or not isinstance(e, (int, float)) or not 0 < e < 1:
        return f"ppl epsilon must be in (0, 1), got {e!r}"
    if p.get("distance") not in DISTANCES:
        return f"ppl distance must be one of {', '.join(DISTANCES)}, got {p.get('distance')!r}"
    return None


def _ppl_resolved(p) -> dict:
    from genbench.metrics.ppl import resolved_distance

    return resolved_distance(p["distance"])


def _n_param(p, metric: str) -> str | None:
    n = p.get("n")
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 2):
        return f"{metric} n must be an integer >= 2 (or null: the evaluation's n), got {n!r}"
    return None


def _truncation(x: MetricInputs, *, psis: list, n: int | None) -> list[MetricResult]:
    from genbench.metrics.truncation import truncation_sweep

    if not getattr(x.model.spec, "supports_truncation", False):
        why = f"model {x.model.name!r} has no truncation trick"
        x.not_applicable.update({c: why for c in ("truncation_best_fid", "truncation_max_is")})
        return []
    return truncation_sweep(x.model, x.dataset, psis=psis, n=n or x.n, seed=x.seed, split=x.split,
                            extractor=x.extractor, device=x.device, cache_dir=x.cache_dir)


def _truncation_params(p) -> str | None:
    from genbench.metrics.truncation import grid_problem

    return grid_problem(p.get("psis")) or _n_param(p, "truncation_sweep")


def _edit(x: MetricInputs, *, n: int | None, classifier: str | None) -> list[MetricResult]:
    """Edit the first n images of the evaluation split, each to another class than its own in
    turn (label + 1 + i mod (K − 1), mod K); reconstruct them with y unchanged."""
    from genbench.features import get_extractor
    from genbench.metrics.edit import DEFAULT_CLASSIFIER, edit_metrics

    spec = x.model.spec
    if not callable(getattr(spec, "edit", None)):
        why = f"model {x.model.name!r} has no encoder to edit images with (only IcGAN-style models do)"
        x.not_applicable.update({c: why for c in ("edit_accuracy", "edit_psnr", "edit_ssim")})
        return []
    split = x.dataset.split(x.split)
    k = int(x.model.config.n_classes)
    m = min(n or x.n or len(split.samples), len(split.samples))
    images = split.samples[:m]
    i = np.arange(m)
    if split.labels is not None and k > 1:
        targets, rule = (split.labels[:m] + 1 + i % (k - 1)) % k, "source label + 1 + i mod (K-1), mod K (never its own class)"
    else:
        targets, rule = i % k, "i mod K (the split has no labels)"
    name = classifier or x.extractor or DEFAULT_CLASSIFIER
    out = edit_metrics(lambda imgs, t: spec.edit(x.model, imgs, t), images, targets.astype(np.int64),
                       extractor=get_extractor(name), device=x.device)
    # the std of each column becomes the standard error of its mean over the m images (the leaderboard's
    # ± and the gate's noise are about the mean), the per-image spread kept in params
    return [dataclasses.replace(_with_params(r, split=x.split, targets=rule, per_image_std=r.std,
                                             std_is="standard error of the mean over images"),
                                std=None if r.std is None else float(r.std) / float(np.sqrt(m))) for r in out]


def _stage_one(x: MetricInputs) -> list[MetricResult]:
    """FID, IS and caption consistency of a stacked text model's Stage-I images (up-sampled to the data size), drawn for
    the same captions and latents as its samples; Stage II's are the row's own fid and is."""
    from genbench.evaluate import evaluate

    stage_model = getattr(x.model.spec, "stage_model", None)
    if not callable(stage_model):
        why = f"model {x.model.name!r} has no earlier stage to score (only stacked models such as stackgan do)"
        x.not_applicable.update({c: why for c in ("fid_stage1", "is_stage1", "caption_consistency_stage1")})
        return []
    captions = x.dataset.split(x.split).captions
    if captions is None:
        raise GenbenchError(f"stage1 needs the captions of split {x.split!r} of {x.dataset.name!r}; it has none")
    captions = captions[np.arange(x.n) % len(captions)]  # as the runner samples the model: cycled to n
    samples = stage_model(x.model, 1).sample_captions(captions, x.seed)
    r = evaluate(samples, dataset=x.dataset, split=x.split, metrics=["fid", "is"], n=len(samples), extractor=x.extractor,
                 device=x.device, seed=x.seed, cache_dir=x.cache_dir, progress=False)
    from genbench.data.captioned import caption_classes
    from genbench.metrics.caption import caption_consistency

    how = {"stage": 1, "captions": f"split {x.split!r}, cycled to n", "n": int(len(samples))}
    consistency = caption_consistency(samples, caption_classes(captions, x.dataset.vocabulary), device=x.device)
    return [dataclasses.replace(_with_params(m, **how, extractor=r.protocol["extractor"]), name=f"{m.name}_stage1")
            for m in (*r.metrics, consistency)]


# ---------------------------------------------------------------------------- declarations


def _col(name: str, description: str, higher: bool | None) -> Column:
    return Column(name, description, higher)


for _spec in (
    MetricSpec("fid", "Fréchet distance between Gaussians fitted to real and generated features (Heusel et al. 2017)",
               (_col("fid", "Fréchet Inception Distance", False),), ("image", "voxels"), ("features",), stats_reference=True,
               compute=_fid, default=("image", "voxels")),
    MetricSpec("kid", "Kernel distance: unbiased MMD² with a cubic polynomial kernel, mean over random subsets "
               "(Bińkowski et al. 2018)", (_col("kid", "Kernel Inception Distance", False),), ("image", "voxels"), ("features",),
               params={"subsets": 100, "max_subset_size": 1000}, compute=_kid, default=("image", "voxels")),
    MetricSpec("is", "Inception Score: exp of the mean KL between per-sample and marginal class predictions "
               "(Salimans et al. 2016)", (_col("is", "Inception Score", True),), ("image", "voxels"), ("probabilities",),
               stats_reference=True, params={"splits": 10}, compute=_is, default=("image", "voxels")),
    MetricSpec("prdc", "Precision/recall (Kynkäänniemi et al. 2019), density/coverage (Naeem et al. 2020) in feature space",
               (_col("precision", "Fraction of generated samples inside the real data's k-NN manifold", True),
                _col("recall", "Fraction of real samples inside the generated data's k-NN manifold", True),
                _col("density", "Mean number of real k-NN balls containing a generated sample, over k", True),
                _col("coverage", "Fraction of real samples whose k-NN ball contains a generated sample", True)),
               ("image", "voxels"), ("features",), params={"k": 5}, compute=_prdc, default=("image", "voxels")),
    MetricSpec("parzen", "Parzen-window (Gaussian KDE) log-likelihood of test data under the samples, nats "
               "(Goodfellow et al. 2014)", (_col("parzen", "Parzen log-likelihood, nats", True),),
               ("image", "points"), {"image": ("pixels",), "points": ("points",)}, needs_dataset=True,
               compute=_parzen, check=_parzen_check),
    MetricSpec("modes", "Modes (mixture components or classes) the samples cover, quality and balance",
               (_col("modes", "Number of modes the samples cover", True),
                _col("high_quality", "Fraction of 2-D samples within 3 standard deviations of a mode", True),
                _col("mode_kl", "KL(model's histogram over modes ‖ uniform or reference histogram), nats", False)),
               ("image", "points", "voxels"), {"image": ("probabilities",), "points": ("points",),
                                               "voxels": ("probabilities",)}, needs_dataset=True,
               compute=_modes, check=_modes_check, default=("points",)),
    MetricSpec("memorized", "Share of generated samples nearer a training sample (pixel/coordinate L2) than the 5th "
               "percentile of held-out real samples' distances to the training set; ~0.05 for fresh samples",
               # no better direction: ~5 % is what fresh samples score, and 0 is not better than that
               (_col("memorized", "Fraction of generated samples closer to the training set than 95 % of held-out "
                     "real data (a diagnostic, not ranked)", None),), ("image", "points"), {"image": ("pixels",), "points": ("points",)},
               needs_dataset=True, params={"percentile": 5.0, "n_examples": 6, "k_examples": 3},
               compute=_memorized, check=_memorized_check),
    MetricSpec("fid_inf", "FID extrapolated to infinitely many samples by a linear fit against 1/N (Chong & Forsyth 2020)",
               (_col("fid_inf", "FID∞", False),), ("image", "voxels"), ("features",), compute=_fid_inf),
    MetricSpec("psnr", "Peak signal-to-noise ratio of a model's outputs against their targets, dB (options: "
               "y_channel scores BT.601 luma, crop_border cuts pixels from each side, as SR papers do)",
               (_col("psnr", "PSNR, dB", True),), ("image",), ("pairs",), needs_dataset=True,
               params=dict(PAIR_PROTOCOL_PARAMS), compute=_psnr),
    MetricSpec("ssim", "Structural similarity of outputs against targets (11×11 Gaussian window, σ = 1.5; "
               "options y_channel and crop_border as for psnr)",
               (_col("ssim", "SSIM", True),), ("image",), ("pairs",), needs_dataset=True,
               params=dict(PAIR_PROTOCOL_PARAMS), compute=_ssim),
    MetricSpec("l1", "Mean absolute error of outputs against targets, pixel values / 255",
               (_col("l1", "L1 error (0..1)", False),), ("image",), ("pairs",), needs_dataset=True, compute=_l1),
    MetricSpec("task_accuracy", "The task classifier's accuracy on a model's outputs against the class each output "
               "should have (its input's or target's label): the FCN-score idea of pix2pix at digit scale",
               (_col("task_accuracy", "Task classifier accuracy on the outputs", True),), ("image",), ("probabilities",),
               needs_dataset=True, compute=_task_accuracy, check=_classifier_check),
    MetricSpec("hole", "PSNR, SSIM and L1 of the inpainting hole alone (the task's hole region of target and output)",
               (_col("psnr_hole", "PSNR of the hole, dB", True), _col("ssim_hole", "SSIM of the hole", True),
                _col("l1_hole", "L1 error of the hole (0..1)", False)), ("image",), ("pairs",), needs_dataset=True,
               compute=_hole, check=_hole_check),
    MetricSpec("cycle_psnr", "PSNR of an unpaired translator's cycle A → B → A against A, dB",
               (_col("cycle_psnr", "Cycle PSNR (A → B → A vs A), dB", True),), ("image",), ("pairs",),
               needs_dataset=True, compute=_cycle_psnr, check=_unpaired_check),
    MetricSpec("inverse", "The inverse direction B → A of an unpaired translator: FID against domain A, and the task "
               "classifier's accuracy against the B images' labels",
               (_col("fid_ba", "FID of B → A outputs against domain A", False),
                _col("task_accuracy_ba", "Task classifier accuracy on B → A outputs", True)),
               ("image",), ("features", "probabilities"), needs_dataset=True, compute=_inverse, check=_unpaired_check),
    MetricSpec("caption_consistency", "Text-to-image models: share of samples the dataset's classifier assigns to "
               "the class their caption names (the suite runner supplies the captions' classes)",
               (_col("caption_consistency", "Classifier agrees with the caption's digit", True),), ("image",),
               ("probabilities",), needs_dataset=True, compute=_caption_consistency, check=_captions_check),
    MetricSpec("source_only_accuracy", "Reference for translation accuracy: the task classifier (trained on the source "
               "domain A) on untranslated domain-B images against their labels; the same for every model",
               (_col("source_only_accuracy", "Classifier accuracy on untranslated domain B (a reference, not ranked)",
                     None),), ("image",), ("probabilities",), needs_dataset=True, compute=_source_only,
               check=_unpaired_classifier_check),
    MetricSpec("ppl", "Perceptual path length (StyleGAN §4.1): mean d(G(t), G(t + ε))/ε² along interpolations in Z "
               "(slerp) and W (lerp), full (t ~ U(0, 1)) or end-point (t = 0) sampling; d = LPIPS when its weights are "
               "present, else the distance recorded in params. Scored from the model by the suite runner",
               (_col("ppl_z_full", "Path length in Z, full paths", False),
                _col("ppl_z_end", "Path length in Z, end points", False),
                _col("ppl_w_full", "Path length in W, full paths", False),
                _col("ppl_w_end", "Path length in W, end points", False)), ("image",), ("model",),
               params={"n": 10_000, "epsilon": 1e-4, "spaces": ["z", "w"], "samplings": ["full", "end"],
                       "distance": "auto", "batch_size": 250}, compute=_ppl, check_params=_ppl_params,
               resolved=_ppl_resolved),
    MetricSpec("truncation_sweep", "FID and IS of samples drawn with the truncation trick at each ψ of a grid "
               "(BigGAN, StyleGAN): the lowest FID and highest IS over the grid; the curve is in params",
               (_col("truncation_best_fid", "Lowest FID over the truncation grid", False),
                _col("truncation_max_is", "Highest IS over the truncation grid", True)), ("image",), ("model",),
               needs_dataset=True, params={"psis": [1.0, 0.8, 0.6, 0.4, 0.2], "n": None}, compute=_truncation,
               check_params=_truncation_params),
    MetricSpec("edit_accuracy", "Image editing (IcGAN): share of edited test images the classifier assigns to the "
               "requested class; PSNR/SSIM of the reconstruction with y unchanged",
               (_col("edit_accuracy", "Classifier agrees with the requested class of edited images", True),
                _col("edit_psnr", "Reconstruction PSNR (y unchanged), dB", True),
                _col("edit_ssim", "Reconstruction SSIM (y unchanged)", True)), ("image",), ("model",),
               needs_dataset=True, params={"n": None, "classifier": None}, compute=_edit,
               check_params=lambda p: _n_param(p, "edit_accuracy")),
    MetricSpec("stage1", "Stacked text-to-image models (StackGAN): FID and IS of the Stage-I images for the same "
               "captions and latents as the samples (Stage II's are the row's fid and is): FID/IS per stage",
               (_col("fid_stage1", "FID of Stage I (up-sampled to the data size)", False),
                _col("is_stage1", "IS of Stage I", True),
                _col("caption_consistency_stage1", "Classifier agrees with the caption's digit, Stage I", True)),
               ("image",), ("model",), needs_dataset=True, compute=_stage_one),
):
    register_metric(_spec)
del _spec


# LPIPS: optional, only where its weights are present (genbench.metrics.lpips says where they go).
def _lpips(x: MetricInputs) -> list[MetricResult]:
    from genbench.metrics.lpips import lpips_metric

    return lpips_metric(x)


def _lpips_requires() -> str | None:
    from genbench.metrics.lpips import weights_problem

    return weights_problem()


register_metric(MetricSpec(
    "lpips", "LPIPS (Zhang et al. 2018, VGG-16, v0.1) of outputs against their targets, mean over pairs; needs its "
    "weights on this machine ($GENBENCH_LPIPS_WEIGHTS, $GENBENCH_VGG16_WEIGHTS), never downloaded",
    (_col("lpips", "LPIPS vs target (VGG, v0.1)", False),), ("image",), ("pairs",), needs_dataset=True,
    compute=_lpips, requires=_lpips_requires))
