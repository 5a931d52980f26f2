"""A bad input stops its job with one message naming the file and the fix (issue 18):
through the real workflow, the console shows one traceback, no partial output is left, and
the fix is the README's."""

import re
import subprocess

import pytest

from .conftest import ROOT, copy_workflow, snakemake

pytestmark = pytest.mark.workflow


@pytest.fixture
def workdir(tmp_path):
    return copy_workflow(tmp_path / "wf")


def test_a_damaged_data_file_fails_once_naming_the_file(workdir):
    data = workdir / "data/demo/mnist/mnist.npz"
    data.parent.mkdir(parents=True)
    data.write_bytes(bytes(range(256)) * 20)  # random-looking bytes: numpy would call it a pickle
    target = "results/demo/lossgrad/models/softmax10/seed0.pt"
    proc = snakemake(workdir, "--cores", "1", target, check=False, timeout=300)
    out = proc.stdout
    assert proc.returncode != 0
    assert out.count("Traceback (most recent call last)") == 1, out[-4000:]
    assert "Shell command: None" not in out and "allow_pickle" not in out
    assert "data/demo/mnist/mnist.npz: is not a .npz or .npy array file" in out
    assert "see README, 'Bad inputs'" in out
    assert not (workdir / target).exists() and not list((workdir / "results").rglob("*.pt"))


def test_every_bad_input_case_is_in_the_readme():
    """The README's table lists each case the tests exercise, with its fix."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Bad inputs"):]
    section = section[: section.index("\n## ", 4)]
    for case in ("truncated", "damaged", "not a .npz", "directory", "checksum", "config key"):
        assert re.search(case, section, re.IGNORECASE), case


def test_provenance_leaves_the_git_index_alone(tmp_path):
    from xairepro.common.provenance import git_commit

    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "a.txt").write_text("a\n")
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "add", "a.txt"], check=True)
    subprocess.run([*git, "commit", "-qm", "a"], check=True)
    (tmp_path / "a.txt").touch()  # stale stat data: a plain `git status` would refresh the index
    index = tmp_path / ".git" / "index"
    before = index.stat().st_mtime_ns, index.read_bytes()
    assert not git_commit(tmp_path).endswith("+dirty")
    assert (index.stat().st_mtime_ns, index.read_bytes()) == before
