"""requirements.txt, envs/<study>.yaml and containers/<study>.def must pin the same versions,
and every rule must name its study's env and container."""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
STUDIES = sorted(p.stem for p in (ROOT / "envs").glob("*.yaml"))


def requirement_pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"requirements.txt: {line!r} is not pinned with =="
            pins[name.lower().replace("_", "-")] = version
    return pins


def parse_pins(specs) -> dict[str, str]:
    out = {}
    for spec in specs:
        name, _, version = spec.partition("==")
        assert version, f"{spec!r} is not pinned with =="
        out[name.lower().replace("_", "-")] = version
    return out


def env_pins(study: str) -> dict[str, str]:
    env = yaml.safe_load((ROOT / "envs" / f"{study}.yaml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    assert "python=3.11" in env["dependencies"]
    return parse_pins(pip)


def container_pins(study: str) -> dict[str, str]:
    text = (ROOT / "containers" / f"{study}.def").read_text()
    return parse_pins(re.findall(r"([A-Za-z0-9_.\-]+==[^\s\\]+)", text))


def test_studies_have_env_and_container():
    assert "lossgrad" in STUDIES
    for study in STUDIES:
        assert (ROOT / "containers" / f"{study}.def").exists(), study


def test_requirements_pin_every_package():
    pins = requirement_pins()
    for name in ("torch", "torchvision", "torchaudio", "captum", "snakemake", "numpy"):
        assert name in pins


@pytest.mark.parametrize("study", STUDIES)
def test_env_and_container_agree_with_requirements(study):
    pins = requirement_pins()
    env, container = env_pins(study), container_pins(study)
    assert env, f"envs/{study}.yaml pins nothing"
    mismatched = {n: (v, pins.get(n)) for n, v in {**env, **container}.items() if pins.get(n) != v}
    assert mismatched == {}, f"pins differ from requirements.txt: {mismatched}"
    assert set(env) <= set(container), f"container lacks {set(env) - set(container)}"


def test_every_rule_names_its_study_env_and_container():
    for smk in (ROOT / "rules").glob("*.smk"):
        text = smk.read_text()
        for match in re.finditer(r"^rule (\w+):\n(.*?)(?=^rule |\Z)", text, re.S | re.M):
            name, body = match.groups()
            if "script:" not in body and "shell:" not in body:
                continue  # target rules run nothing
            study = name.split("_")[0]
            assert f'"../envs/{study}.yaml"' in body, f"{smk.name}: rule {name} lacks conda: envs/{study}.yaml"
            assert f'container_image("{study}")' in body, f"{smk.name}: rule {name} lacks its container"
            for directive in ("log:", "benchmark:"):
                assert directive in body, f"{smk.name}: rule {name} lacks {directive}"
