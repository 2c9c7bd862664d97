"""Third-party translators: a user's images → images callable applied to a paired split's inputs.

The task in every test is "invert the grey levels", whose answer (255 − input) is computed here
with numpy, independently of the source's conversions.
"""

from __future__ import annotations

import numpy as np
import zipfile

import pytest
import torch
from torch import nn

import baselines
from genbench.data.dataset import Split
from genbench.errors import GenbenchError
from genbench.sources import open_source
from genbench.sources.translator import TranslatorSource

RNG = np.random.default_rng(0)
INPUTS = RNG.integers(0, 256, (7, 1, 8, 8), dtype=np.uint8)
SPLIT = Split(255 - INPUTS, inputs=INPUTS)


def _all(source, n, batch_size=3) -> np.ndarray:
    return np.concatenate(list(source.batches(n, batch_size)))


def test_in_memory_callable_on_a_paired_split():
    source = open_source(lambda x: 255 - x, inputs=SPLIT)  # uint8 in, uint8 out when no range is declared
    assert isinstance(source, TranslatorSource)
    assert (source.kind, source.n_available, source.image_shape) == ("image", 7, (1, 8, 8))
    np.testing.assert_array_equal(_all(source, 7), SPLIT.samples)
    np.testing.assert_array_equal(_all(source, 5, batch_size=2), SPLIT.samples[:5])
    d = source.describe()
    assert d["type"] == "translator" and d["inputs"]["n"] == 7 and d["input_range"] == "uint8"


def test_entry_point_with_a_float_range(tmp_path, monkeypatch):
    (tmp_path / "my_translators.py").write_text(
        "def build(device=None):\n"
        "    return lambda x: -x  # in [-1, 1], inverting grey levels is negation\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    source = open_source("my_translators:build", inputs=INPUTS, value_range=(-1, 1))
    np.testing.assert_array_equal(_all(source, 7), 255 - INPUTS)
    assert source.describe()["entry_point"] == "my_translators:build"


class _Invert(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 1.0 - x


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:FutureWarning")
def test_torchscript_translator(tmp_path):
    path = tmp_path / "invert.pt"
    torch.jit.script(_Invert()).save(str(path))
    source = open_source(path, inputs=SPLIT, value_range="0,1")
    np.testing.assert_array_equal(_all(source, 7), SPLIT.samples)
    assert source.describe()["source"] == "torchscript" and len(source.describe()["sha256"]) == 64
    # The translator goes through the generators' TorchScript loader, which verifies the CRC-32s.
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        code = next(i for i in zf.infolist() if "/code/" in i.filename and i.compress_size > 8)
    name_len, extra_len = np.frombuffer(data, "<u2", 2, code.header_offset + 26)  # local file header
    data[code.header_offset + 30 + int(name_len) + int(extra_len) + 4] ^= 0x20  # same size, wrong CRC
    (tmp_path / "bad.pt").write_bytes(bytes(data))
    with pytest.raises(GenbenchError, match=r"bad\.pt: the archive is corrupt"):
        open_source(tmp_path / "bad.pt", inputs=SPLIT, value_range="0,1")


def test_checkpoint_that_translates(tmp_path):
    from genbench.data.dataset import Dataset, compute_fingerprint

    x = RNG.integers(0, 256, (16, 1, 28, 28), dtype=np.uint8)
    splits = {"train": Split(x)}
    ds = Dataset("tiny", "image", splits, compute_fingerprint("tiny", splits))
    out = baselines.train("ae", ds, out_dir=tmp_path / "ae", steps=1, progress=False,
                          overrides={"batch_size": 8, "width": 4, "hidden": (16,)})
    source = open_source(out, inputs=x[:5])
    np.testing.assert_array_equal(_all(source, 5), baselines.load(out).translate(x[:5]))
    gan = baselines.train("gan", ds, out_dir=tmp_path / "gan", steps=1, progress=False,
                          overrides={"batch_size": 8, "g_width": 4, "d_width": 4, "z_dim": 4})
    with pytest.raises(GenbenchError, match="'gan' cannot translate"):
        open_source(gan, inputs=x[:5])


def _raise(exc):
    def translator(x):
        raise exc
    return translator


@pytest.mark.parametrize("translator, inputs, kwargs, message", [
    (lambda x: x[:1], INPUTS, {}, "returned 1 outputs for 2 inputs"),
    (_raise(ValueError("boom")), INPUTS, {}, "translating inputs of shape .* failed: ValueError: boom"),
    (_raise(SystemExit(0)), INPUTS, {}, "failed: SystemExit"),
    (lambda x: x.float() / 255, INPUTS, {}, "floating point .* does not guess their range"),
    (lambda x: "no", INPUTS, {}, "returned str"),
    (lambda x: 255 - x, Split(INPUTS), {}, "the split has no input images"),
    (lambda x: 255 - x, INPUTS.astype(np.float32), {}, "input images must be uint8"),
    (lambda x: 255 - x, INPUTS, {"latent_dim": 3}, "latent_dim applies only to generators, not to a translator"),
    ("not_a_module_xyz:build", INPUTS, {}, "cannot import module"),
    (42, INPUTS, {}, "cannot open int as a translator"),
])
def test_bad_translators_and_inputs_are_one_line_errors(translator, inputs, kwargs, message):
    with pytest.raises(GenbenchError, match=message):
        open_source(translator, inputs=inputs, **kwargs)


def test_asking_for_more_outputs_than_inputs_is_an_error():
    source = open_source(lambda x: 255 - x, inputs=INPUTS)
    with pytest.raises(GenbenchError, match="8 samples requested but only 7"):
        list(source.batches(8))
