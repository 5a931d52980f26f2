"""The paper-scale resource annotations are the derivation of docs/paper-resources.md
(scripts/smoke/resources.py): measured peak memory and GPU time, one stated rule."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from xairepro.common.registry import study_names

ROOT = Path(__file__).resolve().parents[2]
TABLE = ROOT / "docs" / "paper-resources.csv"


def resources_module():
    spec = importlib.util.spec_from_file_location("smoke_resources_under_test", ROOT / "scripts/smoke/resources.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def derivation() -> pd.DataFrame:
    return pd.read_csv(TABLE)


def paper_resources() -> dict[tuple[str, str], dict]:
    out = {}
    for study in study_names(ROOT):
        for part, value in yaml.safe_load((ROOT / "config" / f"{study}.yaml").read_text())[study].items():
            if isinstance(value, dict) and isinstance(value.get("paper"), dict) and "resources" in value["paper"]:
                out[(study, part)] = value["paper"]["resources"]
    return out


def test_every_paper_resources_block_is_derived(derivation):
    derived = set(zip(derivation.study, derivation.part))
    assert set(paper_resources()) == derived


def test_configured_memory_and_runtime_are_the_derived_values(derivation):
    configured = paper_resources()
    for row in derivation.itertuples():
        now = configured[(row.study, row.part)]
        assert (now["mem_mb"], now["runtime"]) == (row.mem_mb, row.runtime), f"{row.study}.{row.part}"


def test_each_value_follows_the_stated_rule_from_its_measurements(derivation):
    module = resources_module()
    for row in derivation.itertuples():
        if pd.notna(row.smoke_peak_rss_mb):
            expected = module.ceil_to(
                module.MEMORY_MARGIN * (row.smoke_peak_rss_mb + row.paper_data_mb + module.CUDA_HOST_MB), 1000)
            # the CSV rounds the inputs to whole MB: allow one step of the rounding
            assert abs(row.mem_mb - expected) <= 1000, f"{row.study}.{row.part}"
        if row.runtime_measured:
            assert row.runtime == module.ceil_to(10 + module.SLOWER * row.h100_job_s / 60, 10) or math.isclose(
                row.runtime, module.ceil_to(10 + module.SLOWER * (row.h100_job_s + 0.5) / 60, 10)), row.part


def test_the_rule_rounds_up_and_keeps_unmeasured_runtimes():
    module = resources_module()
    assert module.ceil_to(1001, 1000) == 2000 and module.ceil_to(1000, 1000) == 1000
    block = module.Block("s", "p", ("s_r",), 1, None, None, "untimed", 100.0, "x")
    module.BLOCKS.append(block)
    try:
        table = module.derive({"s_r": 900.0}, {("s", "p"): {"mem_mb": 5000, "runtime": 77}})
    finally:
        module.BLOCKS.remove(block)
    row = table[table.part == "p"].iloc[0]
    # 1.5 x (900 + 100 + the CUDA allowance of 3000) = 6000
    assert row.mem_mb == 6000 and row.runtime == 77 and not row.runtime_measured


def test_a_block_with_wildcards_reads_only_those_jobs(tmp_path):
    module = resources_module()
    for stem, rss in (("mnist_1", 700), ("ecg_42", 3500)):
        path = tmp_path / "benchmarks" / "paper" / "s" / "r" / f"{stem}.tsv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"s\tmax_rss\n1.0\t{rss}\n")
    peaks = module.smoke_peaks(tmp_path)
    assert peaks["s_r"] == 3500 and peaks["s_r/mnist_1"] == 700
    every, ecg, mnist = (module.Block("s", "p", ("s_r",), 1, None, None, "", 0.0, "", wildcards=w)
                         for w in ((), ("ecg_",), ("mnist_",)))
    assert (module.block_peak(every, peaks), module.block_peak(ecg, peaks), module.block_peak(mnist, peaks)) == (
        3500, 3500, 700)
