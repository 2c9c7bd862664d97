"""`genbench metrics`, `genbench datasets`, `genbench extractors`."""

from genbench.cli import main
from genbench.data import DATASETS
from genbench.features import EXTRACTORS
from genbench.metrics import METRICS


def test_metrics_lists_every_metric_with_its_direction(capsys):
    assert main(["metrics"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[0] for line in lines] == list(METRICS)
    by_name = {line.split()[0]: line for line in lines}
    assert "lower is better" in by_name["fid"] and "lower is better" in by_name["kid"]
    assert "higher is better" in by_name["is"] and "higher is better" in by_name["ssim"]
    assert "lower is better" in by_name["mode_kl"]
    for name, info in METRICS.items():
        assert info.description in by_name[name]
    # the leaderboard names the other parts of genbench rely on
    assert set(METRICS) == {"fid", "fid_inf", "kid", "is", "parzen", "precision", "recall", "density",
                            "coverage", "modes", "high_quality", "mode_kl", "psnr", "ssim"}


def test_datasets_and_extractors_list_their_registries(capsys):
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    assert [line.split()[0] for line in out.strip().splitlines()] == list(DATASETS)
    assert main(["extractors"]) == 0
    out = capsys.readouterr().out
    assert [line.split()[0] for line in out.strip().splitlines()] == list(EXTRACTORS)
