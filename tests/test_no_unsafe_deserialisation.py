"""No shipped code deserialises with pickle (issue 9): a scan of the library, the scripts
and the rules.

Flagged: importing pickle-like modules (pickle, cPickle, dill, cloudpickle, joblib, shelve,
marshal), pandas' read_pickle/to_pickle, ``np.load(..., allow_pickle=True)``,
``torch.load`` without ``weights_only=True``, and ``yaml.load`` without a safe loader. A
line that must unpickle a user-provided, trusted artefact (only at paper scale) carries
the marker ``# trusted-pickle: <why>``; the test lists those places and requires a reason.
"""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PICKLE_MODULES = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "joblib", "shelve", "marshal"}
MARKER = re.compile(r"#\s*trusted-pickle:\s*(\S.*)?$")


def shipped_python() -> list[Path]:
    files = [*sorted((ROOT / "xairepro").rglob("*.py")), *sorted((ROOT / "scripts").rglob("*.py"))]
    return [f for f in files if "__pycache__" not in f.parts]


def shipped_rules() -> list[Path]:
    return [ROOT / "Snakefile", *sorted((ROOT / "rules").glob("*.smk"))]


def keyword(call: ast.Call, name: str):
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    return None


def is_true(node) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def dotted(node) -> str:
    if isinstance(node, ast.Attribute):
        return f"{dotted(node.value)}.{node.attr}"
    if isinstance(node, ast.Name):
        return node.id
    return "?"


def findings(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, problem) for every unsafe deserialisation in a module."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in PICKLE_MODULES:
                    found.append((node.lineno, f"imports {alias.name}"))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in PICKLE_MODULES:
            found.append((node.lineno, f"imports from {node.module}"))
        elif isinstance(node, ast.Call):
            name = dotted(node.func)
            if name.endswith(("read_pickle", "to_pickle")):
                found.append((node.lineno, f"calls {name}"))
            elif name in {"np.load", "numpy.load"} and is_true(keyword(node, "allow_pickle")):
                found.append((node.lineno, f"{name} with allow_pickle=True"))
            elif name == "torch.load" and not is_true(keyword(node, "weights_only")):
                found.append((node.lineno, "torch.load without weights_only=True"))
            elif name == "yaml.load":
                loader = keyword(node, "Loader") or (node.args[1] if len(node.args) > 1 else None)
                if loader is None or "Safe" not in dotted(loader):
                    found.append((node.lineno, "yaml.load without a safe loader"))
    return found


def scan(path: Path) -> tuple[list[str], list[str]]:
    """(violations, trusted places) of one file."""
    lines = path.read_text().splitlines()
    violations, trusted = [], []
    for lineno, problem in findings(ast.parse("\n".join(lines), filename=str(path))):
        marker = MARKER.search(lines[lineno - 1])
        where = f"{path.relative_to(ROOT)}:{lineno}: {problem}"
        if marker is None:
            violations.append(where)
        elif not marker.group(1):
            violations.append(f"{where} (trusted-pickle marker without a reason)")
        else:
            trusted.append(f"{where} -- {marker.group(1)}")
    return violations, trusted


def test_shipped_python_never_unpickles_untrusted_data():
    violations, trusted = [], []
    for path in shipped_python():
        v, t = scan(path)
        violations += v
        trusted += t
    assert not violations, "unsafe deserialisation:\n" + "\n".join(violations)
    print("trusted, paper-scale only:\n" + "\n".join(trusted))


def test_rules_never_unpickle():
    pattern = re.compile(r"\bimport (c?pickle|dill|joblib)\b|pickle\.loads?\(|read_pickle|allow_pickle\s*=\s*True|torch\.load\(")
    offenders = [f"{p.relative_to(ROOT)}:{i}" for p in shipped_rules()
                 for i, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line)]
    assert not offenders, offenders


@pytest.mark.parametrize("source,expected", [
    ("import pickle", "imports pickle"),
    ("from joblib import load", "imports from joblib"),
    ("import torch\ntorch.load('m.pt')", "torch.load without weights_only=True"),
    ("import torch\ntorch.load('m.pt', weights_only=False)", "torch.load without weights_only=True"),
    ("import numpy as np\nnp.load('a.npy', allow_pickle=True)", "np.load with allow_pickle=True"),
    ("import pandas as pd\npd.read_pickle('t.pkl')", "calls pd.read_pickle"),
    ("import yaml\nyaml.load(open('c.yaml'))", "yaml.load without a safe loader"),
])
def test_the_scan_catches_each_pattern(source, expected):
    assert expected in [problem for _, problem in findings(ast.parse(source))]


@pytest.mark.parametrize("source", [
    "import torch\ntorch.load('m.pt', map_location='cpu', weights_only=True)",
    "import numpy as np\nnp.load('a.npz', allow_pickle=False)",
    "import yaml\nyaml.load(open('c.yaml'), Loader=yaml.SafeLoader)\nyaml.safe_load('a: 1')",
])
def test_the_scan_accepts_safe_calls(source):
    assert findings(ast.parse(source)) == []
