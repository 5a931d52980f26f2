"""mock_snakemake builds the job a script would get, from the real workflow."""

from pathlib import Path

from xairepro.common.smk import mock_snakemake, snakemake_or_mock

ROOT = Path(__file__).resolve().parents[2]


def test_mock_snakemake_builds_the_rule_job():
    smk = mock_snakemake("lossgrad_train_classifier", scale="demo", variant="sigmoid2", seed="1")
    assert smk.input.data == str(ROOT / "data/demo/mnist/mnist.npz")
    assert smk.output.model == str(ROOT / "results/demo/lossgrad/models/sigmoid2/seed1.pt")
    # log and benchmark paths come from the rule name and wildcards (finish_rules, rules/common.smk)
    assert smk.log[0].endswith("logs/demo/lossgrad/train_classifier/sigmoid2_1.log")
    assert smk.config["log_level"] == "INFO"
    assert smk.params.checkpoint == "results/demo/lossgrad/checkpoints/sigmoid2/seed1.pt"
    assert smk.params.train["epochs"] >= 1 and "arch" in smk.params.train
    assert smk.threads >= 1 and smk.resources.gpu == 0
    assert smk.wildcards.variant == "sigmoid2"


def test_mock_snakemake_applies_config_overrides():
    smk = mock_snakemake("lossgrad_train_classifier", config={"scale": "paper"}, scale="paper",
                         variant="softmax10", seed="1")
    assert smk.params.train["epochs"] == 14 and smk.resources.gpu == 1


def test_snakemake_object_wins_when_present():
    sentinel = object()
    assert snakemake_or_mock({"snakemake": sentinel}, "lossgrad_plot_roar") is sentinel
