"""Each study's software is pinned once, in envs/<study>.yaml, at the versions of
requirements.txt: the conda env of `--sdm conda` and the image of `--sdm apptainer`
(containers/study.def, templated on the study, installs the pip pins it reads from that env
file). Each env carries the torch trio, its field libraries and everything its code imports;
the project itself is installed by the one post-deploy script (envs/<study>.post-deploy.sh
are links to it) and by the image. In the parsed workflow every rule that runs something has
its study's env, image, log and benchmark; downloads are local rules; `--sdm apptainer` binds
the GPUs under every profile. The studies are those of config/studies.yaml."""

import ast
import importlib.metadata
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from xairepro.common.registry import study_names

ROOT = Path(__file__).resolve().parents[1]
STUDIES = study_names(ROOT)
# Envs of the rules that span studies (rules/claims.smk).
CROSS_STUDY = ("claims",)
DEFINITION = ROOT / "containers" / "study.def"
# Every study env pins the same torch, torchvision and torchaudio (a shared stack: studies
# move to a new torch together), at the versions of requirements.txt.
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


def canonical(name: str) -> str:
    return name.lower().replace("_", "-")


def requirement_pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"requirements.txt: {line!r} is not pinned with =="
            pins[canonical(name)] = version
    return pins


def parse_pins(specs) -> dict[str, str]:
    out = {}
    for spec in specs:
        name, _, version = spec.partition("==")
        assert version, f"{spec!r} is not pinned with =="
        out[canonical(name)] = version
    return out


def env_pip_entries(study: str) -> list[str]:
    """The `pip:` list of envs/<study>.yaml, as written."""
    env = yaml.safe_load((ROOT / "envs" / f"{study}.yaml").read_text())
    assert "python=3.11" in env["dependencies"]
    return next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)


def env_pins(study: str) -> dict[str, str]:
    return parse_pins(env_pip_entries(study))


def definition_section(name: str) -> str:
    """The body of one %section of containers/study.def."""
    match = re.search(rf"^%{name}\n(.*?)(?=^%|\Z)", DEFINITION.read_text(), re.S | re.M)
    assert match, f"containers/study.def has no %{name}"
    return match.group(1)


def pins_read_by_the_image(env_file: Path) -> list[str]:
    """Run the pin extraction of the definition's %post (the `pins=$(...)` line, under the
    image's /bin/sh) on ``env_file``: what `pip install` gets in the image."""
    post = definition_section("post")
    match = re.search(r"^\s*pins=\$\((.*)\)\s*$", post, re.M)
    assert match, "containers/study.def %post must read the pins as pins=$(...)"
    assert '"$env"' in match.group(1), "the pin extraction must read the env file ($env)"
    proc = subprocess.run(["sh", "-c", f'env="$1"\n{match.group(1)}', "sh", str(env_file)],
                          capture_output=True, text=True, timeout=30, check=True)
    return proc.stdout.split()


def test_every_registered_study_has_an_env():
    assert "lossgrad" in STUDIES
    for study in STUDIES:
        assert (ROOT / "envs" / f"{study}.yaml").is_file(), study
    envs = sorted(p.stem for p in (ROOT / "envs").glob("*.yaml"))
    assert envs == sorted([*STUDIES, *CROSS_STUDY]), "an env without a study"


def test_requirements_pin_every_package():
    pins = requirement_pins()
    for name in ("torch", "torchvision", "torchaudio", "captum", "snakemake", "numpy"):
        assert name in pins


@pytest.mark.parametrize("study", [*STUDIES, *CROSS_STUDY])
def test_env_agrees_with_requirements(study):
    pins = requirement_pins()
    env = env_pins(study)
    assert env, f"envs/{study}.yaml pins nothing"
    mismatched = {n: (v, pins.get(n)) for n, v in env.items() if pins.get(n) != v}
    assert mismatched == {}, f"pins differ from requirements.txt: {mismatched}"


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
def test_env_carries_the_torch_trio_and_field_libraries(study):
    assert study in FIELD_LIBRARIES, f"name the field libraries of {study} in FIELD_LIBRARIES"
    required = set(TORCH_TRIO) | FIELD_LIBRARIES[study]
    assert required - set(env_pins(study)) == set(), f"envs/{study}.yaml lacks these pins"


@pytest.mark.parametrize("study", STUDIES)
def test_env_provides_every_import_of_the_study_code(study):
    distributions = importlib.metadata.packages_distributions()
    needed = {}
    for module in third_party_imports(study):
        assert module in distributions, f"{module} is imported by {study}'s code but not installed"
        needed[module] = {canonical(d) for d in distributions[module]}
    env = set(env_pins(study))
    assert {m: d for m, d in needed.items() if not d & env} == {}, f"missing from envs/{study}.yaml"


def test_one_container_definition_for_every_study():
    """containers/study.def is the only definition; its one build argument is the study
    (no default: a build without --build-arg stops), and it names the Apptainer it needs."""
    assert sorted(p.name for p in (ROOT / "containers").glob("*.def")) == ["study.def"]
    text = DEFINITION.read_text()
    assert set(re.findall(r"{{\s*(\w+)\s*}}", text)) == {"study"}
    assert "%arguments" not in text
    assert re.search(r"Apptainer >= 1\.2\b", text), "the header must name the minimum Apptainer (1.2)"
    assert re.search(r"^From: python:3\.11", text, re.M)


@pytest.mark.parametrize("study", STUDIES)
def test_container_installs_exactly_the_pins_of_the_env_file(study):
    """The image copies envs/<study>.yaml and its %post reads the pip pins from it: the same
    command, run here on each env file, yields exactly the env's pip list."""
    files = definition_section("files")
    assert re.search(r"^\s*envs/{{ study }}\.yaml\s+/opt/xairepro/envs/{{ study }}\.yaml\s*$", files, re.M)
    assert re.search(r"^\s*env=/opt/xairepro/envs/{{ study }}\.yaml\s*$", definition_section("post"), re.M)
    read = pins_read_by_the_image(ROOT / "envs" / f"{study}.yaml")
    assert read == [str(entry) for entry in env_pip_entries(study)]
    pins = requirement_pins()
    assert {n: v for n, v in parse_pins(read).items() if pins.get(n) != v} == {}


def test_container_pin_extraction_reads_only_the_pip_list(tmp_path):
    """Conda entries before `- pip:` (python=3.11, a conda `==` pin) are not pip pins;
    comments after an entry are dropped."""
    env = tmp_path / "x.yaml"
    env.write_text("name: x\ndependencies:\n  - python=3.11\n  - libfoo==1.0\n  - pip\n  - pip:\n"
                   "      - torch==2.11.0  # the trio\n      - pretty_midi==0.2.11.post0\n")
    assert pins_read_by_the_image(env) == ["torch==2.11.0", "pretty_midi==0.2.11.post0"]


def test_container_installs_the_project_with_build_tools_of_requirements():
    files, post = definition_section("files"), definition_section("post")
    assert re.search(r"^\s*xairepro /opt/xairepro/xairepro\s*$", files, re.M)  # %files copies the package
    assert re.search(r"^\s*requirements\.txt /opt/xairepro/requirements\.txt\s*$", files, re.M)
    assert re.search(r"pip install .*--no-deps.* /opt/xairepro\s*$", post, re.M)
    assert "pip install --no-cache-dir $pins" in post
    # setuptools and wheel (the build backend of --no-build-isolation) come from requirements.txt
    assert re.search(r"grep -E '\^\(setuptools\|wheel\)==' /opt/xairepro/requirements\.txt", post)
    assert {"setuptools", "wheel"} <= set(requirement_pins())


@pytest.mark.parametrize("study", [*STUDIES, *CROSS_STUDY])
def test_env_installs_the_project_through_the_shared_post_deploy_script(study, tmp_path):
    """Snakemake runs envs/<study>.post-deploy.sh after creating envs/<study>.yaml: each is
    a relative link to envs/post-deploy.sh, which Snakemake reads and copies through the
    link (sourcecache opens it; copy_permission_safe is shutil.copy, following links)."""
    from snakemake.common import copy_permission_safe

    script = ROOT / "envs" / "post-deploy.sh"
    assert script.is_file() and not script.is_symlink() and os.access(script, os.X_OK)
    assert re.search(r"pip install .*--no-deps.* -e ", script.read_text())
    hook = ROOT / "envs" / f"{study}.post-deploy.sh"
    assert hook.is_symlink() and os.readlink(hook) == "post-deploy.sh", f"{hook.name} must link to post-deploy.sh"
    copied = tmp_path / hook.name
    copy_permission_safe(str(hook), str(copied))
    assert not copied.is_symlink() and copied.read_bytes() == script.read_bytes()


@pytest.mark.parametrize("profile", [[], ["--profile", "slurm"], ["--workflow-profile", "profiles/slurm"]],
                         ids=["default", "slurm-profile", "slurm-workflow-profile"])
def test_apptainer_binds_gpus_under_every_profile(profile, monkeypatch):
    from snakemake.cli import parse_args

    monkeypatch.chdir(ROOT)
    _, args = parse_args([*profile, "--sdm", "apptainer", "-n"])
    assert "--nv" in args.apptainer_args.split()


# The parsed workflow's rules, as Snakemake sees them after every include and convention
# (rules/common.smk), dumped from a separate process so that this one keeps no Snakemake
# state: name, whether it runs something, conda env file (resolved against the rule's
# file), container image, log, benchmark, local.
LOAD_RULES = r"""
import json, sys
from pathlib import Path
from snakemake.api import SnakemakeApi
from snakemake.settings.types import (ConfigSettings, DeploymentSettings, OutputSettings,
    ResourceSettings, StorageSettings, WorkflowSettings)

root, out = Path(sys.argv[1]), Path(sys.argv[2])
with SnakemakeApi(OutputSettings()) as api:
    workflow = api.workflow(
        resource_settings=ResourceSettings(), config_settings=ConfigSettings(),
        storage_settings=StorageSettings(), workflow_settings=WorkflowSettings(),
        deployment_settings=DeploymentSettings(), snakefile=root / "Snakefile", workdir=root,
    )._workflow
    out.write_text(json.dumps([{
        "name": rule.name,
        "runs": not rule.norun,
        "conda_env": None if rule.conda_env is None
        else str(Path(rule.basedir.get_path_or_uri(secret_free=True)) / str(rule.conda_env)),
        "container_img": None if rule.container_img is None else str(rule.container_img),
        "log": [str(path) for path in rule.log],
        "benchmark": None if rule.benchmark is None else str(rule.benchmark),
        "local": rule.name in workflow._localrules and rule.group is None,
    } for rule in workflow.rules]))
"""


@pytest.fixture(scope="module")
def workflow_rules(tmp_path_factory) -> list[dict]:
    out = tmp_path_factory.mktemp("rules") / "rules.json"
    proc = subprocess.run([sys.executable, "-c", LOAD_RULES, str(ROOT), str(out)], capture_output=True,
                          text=True, timeout=300, env=dict(os.environ, XAIREPRO_PROGRESS="0"))
    assert proc.returncode == 0, f"the workflow does not parse:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}"
    return json.loads(out.read_text())


def test_every_rule_has_its_study_env_container_log_and_benchmark(workflow_rules):
    """Every rule that runs something is named <study>_<step> for a registered study and,
    whether written in the rule or given by the convention of rules/common.smk, has
    conda env envs/<study>.yaml, container image containers/<study>.sif (where `make images`
    writes it, under the default image_dir), a log and a benchmark."""
    running = [rule for rule in workflow_rules if rule["runs"]]
    for rule in running:
        name, study = rule["name"], rule["name"].split("_")[0]
        if study in CROSS_STUDY:      # rules/claims.smk: its own env, no image (pandas and snakemake only)
            assert Path(rule["conda_env"]).resolve() == (ROOT / "envs" / f"{study}.yaml").resolve(), name
            assert rule["log"] and rule["benchmark"], name
            continue
        assert study in STUDIES, f"rule {name} is not named after a registered study"
        assert rule["conda_env"] is not None, f"rule {name} has no conda env"
        assert Path(rule["conda_env"]).resolve() == (ROOT / "envs" / f"{study}.yaml").resolve(), name
        assert rule["container_img"] is not None, f"rule {name} has no container image"
        assert Path(rule["container_img"]) == Path("containers") / f"{study}.sif", name
        assert rule["log"], f"rule {name} has no log"
        assert rule["benchmark"], f"rule {name} has no benchmark"
    assert {rule["name"].split("_")[0] for rule in running} == {*STUDIES, *CROSS_STUDY}, "a study runs nothing"


def test_downloads_are_local_rules(workflow_rules):
    """Compute nodes often have no internet: a rule that downloads runs on the login node."""
    downloads = [rule for rule in workflow_rules if "_download_" in rule["name"]]
    assert "lossgrad_download_mnist" in {rule["name"] for rule in downloads}
    for rule in downloads:
        assert rule["local"], f"rule {rule['name']} downloads but is not a local rule"
