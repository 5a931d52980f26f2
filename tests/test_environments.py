"""requirements.txt, envs/<study>.yaml and containers/<study>.def must pin the same versions;
each study's env and image carry the torch trio, its field libraries, everything its code
imports and the project itself; every rule names its study's env and container; downloads
are local rules; `--sdm apptainer` binds the GPUs under every profile."""

import ast
import importlib.metadata
import re
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
STUDIES = sorted(p.stem for p in (ROOT / "envs").glob("*.yaml"))
# Every study env and image pins the same torch, torchvision and torchaudio (a shared stack:
# studies move to a new torch together), at the versions of requirements.txt.
TORCH_TRIO = ("torch", "torchvision", "torchaudio")
# The libraries a study is about, beyond what its code happens to import today.
FIELD_LIBRARIES = {
    "labelfree": {"captum"},
    "lossgrad": {"captum"},
    "pianist": {"captum", "lime", "pretty-midi"},
    "interactive": {"captum"},
    "esc50": {"speechbrain", "soundfile", "transformers"},
}
# Imported by scripts but provided by the running Snakemake (its script preamble puts
# Snakemake on sys.path), not by the study env.
PROVIDED_BY_SNAKEMAKE = {"snakemake"}


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


def third_party_imports(study: str) -> set[str]:
    """Top-level modules imported by the study's code: the shared library parts, the study's
    own package and its scripts (stdlib and xairepro excluded)."""
    dirs = [ROOT / "xairepro" / part for part in ("common", "attribution", "metrics", study)]
    modules = set()
    for path in (p for d in [*dirs, ROOT / "scripts" / study] for p in d.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                modules.add(node.module.split(".")[0])
    return modules - set(sys.stdlib_module_names) - {"xairepro"} - PROVIDED_BY_SNAKEMAKE


def test_requirements_pin_the_torch_trio():
    pins = requirement_pins()
    assert {name: pins.get(name) for name in TORCH_TRIO} == {
        "torch": "2.11.0", "torchvision": "0.26.0", "torchaudio": "2.11.0"}


@pytest.mark.parametrize("study", STUDIES)
def test_env_and_container_carry_the_torch_trio_and_field_libraries(study):
    assert study in FIELD_LIBRARIES, f"name the field libraries of {study} in FIELD_LIBRARIES"
    required = set(TORCH_TRIO) | FIELD_LIBRARIES[study]
    assert required - set(env_pins(study)) == set(), f"envs/{study}.yaml lacks these pins"
    assert required - set(container_pins(study)) == set(), f"containers/{study}.def lacks these pins"


@pytest.mark.parametrize("study", STUDIES)
def test_env_and_container_provide_every_import_of_the_study_code(study):
    distributions = importlib.metadata.packages_distributions()
    needed = {}
    for module in third_party_imports(study):
        assert module in distributions, f"{module} is imported by {study}'s code but not installed"
        needed[module] = {d.lower().replace("_", "-") for d in distributions[module]}
    env, container = set(env_pins(study)), set(container_pins(study))
    assert {m: d for m, d in needed.items() if not d & env} == {}, f"missing from envs/{study}.yaml"
    assert {m: d for m, d in needed.items() if not d & container} == {}, f"missing from containers/{study}.def"


@pytest.mark.parametrize("study", STUDIES)
def test_env_and_container_install_the_project(study):
    hook = ROOT / "envs" / f"{study}.post-deploy.sh"
    assert hook.exists(), f"envs/{study}.yaml needs {hook.name} to install xairepro"
    assert re.search(r"pip install .*--no-deps.* -e ", hook.read_text())
    definition = (ROOT / "containers" / f"{study}.def").read_text()
    assert "xairepro /opt/xairepro/xairepro" in definition  # %files copies the package
    assert re.search(r"pip install .*--no-deps.* /opt/xairepro\n", definition)


@pytest.mark.parametrize("profile", [[], ["--profile", "profiles/slurm"], ["--workflow-profile", "profiles/slurm"]],
                         ids=["default", "slurm-profile", "slurm-workflow-profile"])
def test_apptainer_binds_gpus_under_every_profile(profile, monkeypatch):
    from snakemake.cli import parse_args

    monkeypatch.chdir(ROOT)
    _, args = parse_args([*profile, "--sdm", "apptainer", "-n"])
    assert "--nv" in args.apptainer_args.split()


def local_rules(text: str) -> set[str]:
    """The rule names listed under `localrules:` in one .smk file."""
    blocks = re.findall(r"^localrules:\n((?:[ \t]+\w+,?\n)+)", text, re.M)
    return {name for block in blocks for name in re.findall(r"\w+", block)}


def test_downloads_are_local_rules():
    """Compute nodes often have no internet: a rule that downloads runs on the login node."""
    downloads = 0
    for smk in (ROOT / "rules").glob("*.smk"):
        text = smk.read_text()
        for name in re.findall(r"^rule (\w*_download_\w*):", text, re.M):
            downloads += 1
            assert name in local_rules(text), f"{smk.name}: rule {name} downloads but is not in localrules:"
    assert downloads >= 1  # lossgrad_download_mnist at least


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
