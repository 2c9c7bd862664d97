"""``inception-v3-fid``: the Inception-v3 network and preprocessing that define FID.

FID values are only comparable when computed with the *same* network as the literature: the
TensorFlow Inception graph of 2015-12-05 (Heusel et al. 2017), which pytorch-fid ports to
PyTorch with a few patched blocks and its own weights file. This module builds exactly that
network (torchvision's Inception-v3 with pytorch-fid's FID blocks) and its preprocessing
(``uint8 / 255`` → bilinear resize to 299×299, ``align_corners=False`` → ``2x − 1``), and
returns the 2048-d pool3 features (FID, KID, PRDC) and the 1008-way softmax of the fc layer
*without its bias* (torch-fidelity's ``logits_unbiased``, the IS convention of the original
TF code). Grey images are tiled to three channels, as PIL's ``convert("RGB")`` does for
pytorch-fid.

Weights (``pt_inception-2015-12-05-6726825d.pth``) are looked up, in order, at
``$GENBENCH_INCEPTION_WEIGHTS``, in torch hub's checkpoint cache (where pytorch-fid's own
download lands), and — unless ``GENBENCH_OFFLINE=1`` — downloaded there from pytorch-fid's URL.
They are loaded with ``weights_only=True`` (no pickled code runs).
"""

from __future__ import annotations

import copy
import logging
import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from genbench.device import resolve_device
from genbench.errors import GenbenchError
from genbench.hashing import sha256_file
from genbench.features.base import ExtractorIdentity, Features, ImageBatches

logger = logging.getLogger(__name__)

NAME = "inception-v3-fid"
WEIGHTS_FILENAME = "pt_inception-2015-12-05-6726825d.pth"
WEIGHTS_URL = "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/" + WEIGHTS_FILENAME
OFFICIAL_SHA256_PREFIX = "6726825d"  # the hash prefix in the file name (torch hub convention)
WEIGHTS_ENV = "GENBENCH_INCEPTION_WEIGHTS"
FEATURE_DIM = 2048
N_CLASSES = 1008
INPUT_SIZE = 299
# Images per forward pass. Incoming batches of any size are cut to this: a 299×299 Inception
# batch of 250 would need several GB of activations on the CPU; on CPU larger chunks gain nothing.
DEFAULT_CHUNK = {"cpu": 50, "cuda": 200}


# --------------------------------------------------------------------------------------------
# Weights: where they are, what they are


def hub_weights_path() -> Path:
    """Where torch hub (and so pytorch-fid) caches the weights; honours ``$TORCH_HOME``."""
    return Path(torch.hub.get_dir()) / "checkpoints" / WEIGHTS_FILENAME


def _download(url: str, dest: Path, progress: bool) -> None:
    """Fetch ``url`` to ``dest`` checking the file's hash prefix (a separate function so tests can stub it)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    torch.hub.download_url_to_file(url, str(dest), hash_prefix=OFFICIAL_SHA256_PREFIX, progress=progress)


def offline() -> bool:
    """``GENBENCH_OFFLINE`` set to anything but "" or "0": never touch the network (the data
    loaders honour the same switch)."""
    return os.environ.get("GENBENCH_OFFLINE", "") not in ("", "0")


def find_weights(*, download: bool = True, progress: bool = True) -> Path:
    """The weights file: ``$GENBENCH_INCEPTION_WEIGHTS``, else the hub cache, else downloaded
    there (never with ``download=False`` or ``GENBENCH_OFFLINE=1``)."""
    env = os.environ.get(WEIGHTS_ENV)
    if env:
        path = Path(env).expanduser()
        if not path.is_file():
            raise GenbenchError(
                f"${WEIGHTS_ENV} points to {path}, which is not a file: set it to the path of "
                f"{WEIGHTS_FILENAME} (from {WEIGHTS_URL}) or unset it to use {hub_weights_path()}"
            )
        return path
    path = hub_weights_path()
    if path.is_file():
        return path
    reason = "downloading is switched off"
    if download and offline():
        reason = "GENBENCH_OFFLINE is set, so it was not downloaded"
    elif download:
        logger.info("downloading the FID Inception weights from %s to %s", WEIGHTS_URL, path)
        try:
            _download(WEIGHTS_URL, path, progress)
        except Exception as exc:  # no network, proxy, HTTP error, hash mismatch: all mean "not here"
            reason = f"downloading it failed ({type(exc).__name__}: {exc})"
        else:
            return path
    raise GenbenchError(
        f"the FID Inception weights file {WEIGHTS_FILENAME} was not found: ${WEIGHTS_ENV} is not set "
        f"and it is not in the torch hub checkpoint cache ({path}); {reason}. Fetch it from "
        f"{WEIGHTS_URL} and put it at {path} (the place pytorch-fid also uses; set $TORCH_HOME to "
        f"move it) or point ${WEIGHTS_ENV} to it."
    )


_SHA256_CACHE: dict[tuple[str, int, int], str] = {}


def weights_sha256(path: Path) -> str:
    """sha256 of the file, computed once per process per (path, mtime, size): hashing 95 MB is slow."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    if key not in _SHA256_CACHE:
        _SHA256_CACHE[key] = sha256_file(path)
    return _SHA256_CACHE[key]


# --------------------------------------------------------------------------------------------
# The network


def build_fid_inception() -> nn.Module:
    """torchvision's Inception-v3 (1008 classes, no aux head) with pytorch-fid's FID blocks; no weights.

    This is the module layout pytorch-fid's weights file was saved from, so its state dict loads
    with ``strict=True``.
    """
    from pytorch_fid.inception import FIDInceptionA, FIDInceptionC, FIDInceptionE_1, FIDInceptionE_2
    from torchvision.models.inception import Inception3

    net = Inception3(num_classes=N_CLASSES, aux_logits=False, init_weights=False)
    net.Mixed_5b = FIDInceptionA(192, pool_features=32)
    net.Mixed_5c = FIDInceptionA(256, pool_features=64)
    net.Mixed_5d = FIDInceptionA(288, pool_features=64)
    net.Mixed_6b = FIDInceptionC(768, channels_7x7=128)
    net.Mixed_6c = FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6d = FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6e = FIDInceptionC(768, channels_7x7=192)
    net.Mixed_7b = FIDInceptionE_1(1280)
    net.Mixed_7c = FIDInceptionE_2(2048)
    return net


class FidInceptionV3(nn.Module):
    """uint8 images B×C×H×W (C = 1 or 3) → (pool3 B×2048, fc logits without bias B×1008), float32."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.body = nn.Sequential(
            net.Conv2d_1a_3x3,
            net.Conv2d_2a_3x3,
            net.Conv2d_2b_3x3,
            nn.MaxPool2d(kernel_size=3, stride=2),
            net.Conv2d_3b_1x1,
            net.Conv2d_4a_3x3,
            nn.MaxPool2d(kernel_size=3, stride=2),
            net.Mixed_5b,
            net.Mixed_5c,
            net.Mixed_5d,
            net.Mixed_6a,
            net.Mixed_6b,
            net.Mixed_6c,
            net.Mixed_6d,
            net.Mixed_6e,
            net.Mixed_7a,
            net.Mixed_7b,
            net.Mixed_7c,
            nn.AdaptiveAvgPool2d(output_size=(1, 1)),
        )
        self.fc_weight = nn.Parameter(net.fc.weight.detach().clone(), requires_grad=False)
        self.channels_last = False

    @staticmethod
    def preprocess(images: torch.Tensor) -> torch.Tensor:
        """pytorch-fid's input pipeline: ToTensor's ``/255``, bilinear resize to 299, ``2x − 1``."""
        x = images.to(torch.float32).div(255)
        x = F.interpolate(x, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False)
        x = 2 * x - 1
        if x.shape[1] == 1:  # grey: the same values in R, G and B (resizing per channel commutes)
            x = x.expand(-1, 3, -1, -1)
        return x

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.preprocess(images)
        x = x.contiguous(memory_format=torch.channels_last if self.channels_last else torch.contiguous_format)
        pool3 = torch.flatten(self.body(x), 1)
        return pool3, pool3 @ self.fc_weight.T


def load_fid_inception(path: Path) -> FidInceptionV3:
    """The network with the weights at ``path`` (``weights_only=True``); errors name the file."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises RuntimeError, UnpicklingError, EOFError, … for bad files
        raise GenbenchError(
            f"cannot load the FID Inception weights {path}: {type(exc).__name__}: {exc}. The file is "
            f"corrupt, truncated or not a weights-only state dict; delete it and fetch it again from "
            f"{WEIGHTS_URL}"
        ) from exc
    if not isinstance(state, dict):
        raise GenbenchError(f"the FID Inception weights {path} hold a {type(state).__name__}, not a state dict")
    # Built on the meta device and filled by assignment: no time spent on a random initialisation
    # that the weights would overwrite anyway.
    with torch.device("meta"):
        net = build_fid_inception()
    state = {k: v.float() if torch.is_tensor(v) and v.is_floating_point() else v for k, v in state.items()}
    try:
        net.load_state_dict(state, strict=True, assign=True)
    except (RuntimeError, TypeError, AttributeError) as exc:
        raise GenbenchError(
            f"the weights {path} do not fit the FID Inception network (is it {WEIGHTS_FILENAME}?): {exc}"
        ) from exc
    if any(t.is_meta for t in [*net.parameters(), *net.buffers()]):  # pragma: no cover - strict load prevents it
        raise GenbenchError(f"the weights {path} left parts of the FID Inception network unset")
    model = FidInceptionV3(net).eval()
    model.requires_grad_(False)
    return model


# --------------------------------------------------------------------------------------------
# The extractor


_MODEL_CACHE: dict[str, FidInceptionV3] = {}  # sha256 -> CPU model, shared by extractors


def _to_uint8_tensor(batch, index: int) -> torch.Tensor:
    if isinstance(batch, np.ndarray):
        if batch.dtype != np.uint8:
            raise GenbenchError(f"{NAME}: batch {index} has dtype {batch.dtype}; images must be uint8 (0..255)")
        tensor = torch.from_numpy(np.ascontiguousarray(batch))
    elif isinstance(batch, torch.Tensor):
        if batch.dtype != torch.uint8:
            raise GenbenchError(f"{NAME}: batch {index} has dtype {batch.dtype}; images must be uint8 (0..255)")
        tensor = batch
    else:
        raise GenbenchError(f"{NAME}: batch {index} is a {type(batch).__name__}, not a numpy array or torch tensor")
    if tensor.ndim != 4 or tensor.shape[1] not in (1, 3):
        raise GenbenchError(
            f"{NAME}: batch {index} has shape {tuple(tensor.shape)}; expected uint8 N×C×H×W with C = 1 or 3"
        )
    return tensor


class InceptionV3FidExtractor:
    """pool3 features (2048-d) and 1008-way IS probabilities of the FID Inception network.

    ``weights_path`` overrides the lookup (see :func:`find_weights`); ``download=False`` never
    touches the network. ``chunk_size`` is how many images go through the network at once
    (default: 50 on CPU, 200 on CUDA). ``channels_last`` (default: on for CPU, where oneDNN's
    convolutions are faster in that layout) does not change the result beyond float rounding.
    """

    def __init__(
        self,
        weights_path: str | os.PathLike | None = None,
        *,
        download: bool = True,
        chunk_size: int | None = None,
        channels_last: bool | None = None,
    ) -> None:
        if weights_path is not None:
            path = Path(weights_path).expanduser()
            if not path.is_file():
                raise GenbenchError(f"{NAME}: weights file {path} does not exist")
        else:
            path = find_weights(download=download)
        digest = weights_sha256(path)
        if not digest.startswith(OFFICIAL_SHA256_PREFIX):
            logger.warning(
                "%s: %s is not the official FID Inception weights (sha256 %s…): FID values computed "
                "with it are not comparable with published ones", NAME, path, digest[:12]
            )
        if chunk_size is not None and chunk_size < 1:
            raise GenbenchError(f"{NAME}: chunk_size must be positive, got {chunk_size}")
        self.weights_path = path
        self.identity = ExtractorIdentity(NAME, digest)
        self.feature_dim = FEATURE_DIM
        self.n_classes = N_CLASSES
        self.chunk_size = chunk_size
        self.channels_last = channels_last
        if digest not in _MODEL_CACHE:
            _MODEL_CACHE[digest] = load_fid_inception(path)
        self._cpu_model = _MODEL_CACHE[digest]
        self._device_models: dict[torch.device, FidInceptionV3] = {}

    def _model_on(self, device: torch.device) -> FidInceptionV3:
        if device.type == "cpu":
            model = self._cpu_model
        else:
            if device not in self._device_models:  # a copy: .to() moves in place and the CPU model is shared
                self._device_models[device] = copy.deepcopy(self._cpu_model).to(device)
            model = self._device_models[device]
        channels_last = self.channels_last if self.channels_last is not None else device.type == "cpu"
        model.channels_last = channels_last
        return model

    def extract(
        self,
        batches: ImageBatches,
        *,
        device: torch.device | str | None = None,
        progress: bool = True,
        total: int | None = None,
    ) -> Features:
        from tqdm.auto import tqdm

        dev = resolve_device(device)
        model = self._model_on(dev)
        memory_format = torch.channels_last if model.channels_last else torch.contiguous_format
        model.body.to(memory_format=memory_format)
        chunk = self.chunk_size or DEFAULT_CHUNK.get(dev.type, 50)
        pools, logits = [], []
        # Deterministic fp32 convolutions on CUDA: no TF32 (it changes features at the 1e-3 level)
        # and no autotuned algorithm choice that may differ between runs.
        cudnn_flags = torch.backends.cudnn.flags(enabled=True, benchmark=False, deterministic=True, allow_tf32=False)
        prev_matmul_tf32 = torch.backends.cuda.matmul.allow_tf32
        try:
            torch.backends.cuda.matmul.allow_tf32 = False
            with cudnn_flags, torch.inference_mode(), tqdm(
                total=total, unit="img", desc=NAME, disable=not progress
            ) as bar:
                for index, batch in enumerate(batches):
                    tensor = _to_uint8_tensor(batch, index)
                    for start in range(0, tensor.shape[0], chunk):
                        part = tensor[start : start + chunk].to(dev, non_blocking=True)
                        pool3, logit = model(part)
                        pools.append(pool3.cpu())
                        logits.append(logit.cpu())
                        bar.update(part.shape[0])
        finally:
            torch.backends.cuda.matmul.allow_tf32 = prev_matmul_tf32
        if not pools:
            raise GenbenchError(f"{NAME}: no images to extract features from (empty input)")
        features = torch.cat(pools).to(torch.float64).numpy()
        probs = torch.softmax(torch.cat(logits).to(torch.float64), dim=1).numpy()
        logger.debug("extracted %s features of %d images on %s", NAME, features.shape[0], dev)
        return Features(features=features, probs=probs, extractor=self.identity)
