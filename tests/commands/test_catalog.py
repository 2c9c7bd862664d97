"""`genbench metrics`, `genbench datasets`, `genbench extractors`."""

from genbench.cli import main
from genbench.data import DATASETS
from genbench.features import EXTRACTORS
from genbench.metrics import COLUMNS, METRICS


def test_metrics_lists_every_metric_with_its_columns_directions_and_inputs(capsys):
    assert main(["metrics"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()[1:]  # under the header
    assert [line.split()[0] for line in lines] == list(METRICS)
    by_name = {line.split()[0]: line for line in lines}
    assert "fid↓" in by_name["fid"] and "kid↓" in by_name["kid"] and "is↑" in by_name["is"] and "ssim↑" in by_name["ssim"]
    assert "modes↑ high_quality↑ mode_kl↓" in by_name["modes"]
    assert "image: probabilities; points: points" in by_name["modes"] and "image: pairs" in by_name["psnr"]
    for name, spec in METRICS.items():
        assert spec.description in by_name[name]
    # the leaderboard columns the other parts of genbench rely on
    assert set(COLUMNS) == {"fid", "fid_inf", "kid", "is", "parzen", "precision", "recall", "density",
                            "coverage", "modes", "high_quality", "mode_kl", "psnr", "ssim", "memorized",
                            # the image-to-image protocols' (genbench.translations)
                            "l1", "task_accuracy", "psnr_hole", "ssim_hole", "l1_hole", "cycle_psnr", "fid_ba",
                            "task_accuracy_ba", "source_only_accuracy",
                            # optional, where its weights are (genbench.metrics.lpips)
                            "lpips",
                            # text-to-image (the runner supplies the captions' classes)
                            "caption_consistency",
                            # scored from the model by the suite runner (path length, truncation, editing)
                            "ppl_z_full", "ppl_z_end", "ppl_w_full", "ppl_w_end", "truncation_best_fid",
                            "truncation_max_is", "edit_accuracy", "edit_psnr", "edit_ssim", "fid_stage1", "is_stage1",
                            "caption_consistency_stage1"}


def test_datasets_and_extractors_list_their_registries(capsys):
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    assert [line.split()[0] for line in out.strip().splitlines()] == list(DATASETS)
    assert main(["extractors"]) == 0
    out = capsys.readouterr().out
    assert [line.split()[0] for line in out.strip().splitlines()] == list(EXTRACTORS)
