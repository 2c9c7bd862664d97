"""Cache keys follow the code that computes: the source-tree hashes behind them."""

import shutil
from pathlib import Path

import genbench
from genbench import code_hash


def test_tree_hash_changes_with_any_computing_file_and_ignores_presentation(tmp_path):
    src = Path(genbench.__file__).parent
    copy = tmp_path / "genbench"
    shutil.copytree(src, copy, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    before = code_hash.tree_hash(copy, code_hash.PRESENTATION_ONLY)
    assert before == code_hash.tree_hash(src, code_hash.PRESENTATION_ONLY) == code_hash.evaluation_code()

    metric = copy / "metrics" / "fid.py"
    metric.write_text(metric.read_text() + "\n# an edit\n")
    edited = code_hash.tree_hash(copy, code_hash.PRESENTATION_ONLY)
    assert edited != before

    report = copy / "report" / "__init__.py"
    report.write_text(report.read_text() + "\n# cosmetic\n")
    assert code_hash.tree_hash(copy, code_hash.PRESENTATION_ONLY) == edited  # a report edit reruns nothing

    (copy / "metrics" / "fid.py").rename(copy / "metrics" / "fid2.py")
    assert code_hash.tree_hash(copy, code_hash.PRESENTATION_ONLY) != edited  # names count too


def test_training_code_covers_the_baselines():
    import importlib.util

    baselines_dir = Path(next(iter(importlib.util.find_spec("baselines").submodule_search_locations)))
    assert len(code_hash.training_code()) == 64
    assert code_hash.tree_hash(baselines_dir) != code_hash.tree_hash(baselines_dir, ("gan.py",))
