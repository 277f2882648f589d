"""The purity contracts run, and fail when a forbidden import is added."""

import shutil
import subprocess
import sys
from pathlib import Path

from .conftest import ROOT

LINT_IMPORTS = str(Path(sys.executable).parent / "lint-imports")


def lint_imports(pythonpath=None):
    env = {"PATH": str(Path(sys.executable).parent)}
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    return subprocess.run(
        [LINT_IMPORTS, "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )


def copy_tree(tmp_path):
    shutil.copytree(ROOT / "core" / "fjordsync", tmp_path / "fjordsync")
    for name in ("smartdok", "twentyfourseven", "alexis"):
        shutil.copytree(
            ROOT / "plugins" / name / f"fjordsync_{name}", tmp_path / f"fjordsync_{name}"
        )
    return tmp_path


def test_the_contracts_hold_for_the_code_as_it_is():
    result = lint_imports()
    assert result.returncode == 0, result.stdout
    assert "Contracts: 2 kept, 0 broken." in result.stdout


def test_an_io_import_in_the_domain_breaks_the_contract(tmp_path):
    tree = copy_tree(tmp_path)
    model = tree / "fjordsync" / "domain" / "model.py"
    model.write_text(model.read_text() + "\nimport httpx  # noqa\n")
    result = lint_imports(str(tree))
    assert result.returncode == 1
    assert "The domain, ports and flows stay pure BROKEN" in result.stdout
    assert "fjordsync.domain.model -> httpx" in result.stdout


def test_a_plugin_importing_another_breaks_the_contract(tmp_path):
    tree = copy_tree(tmp_path)
    plugin = tree / "fjordsync_smartdok" / "plugin.py"
    plugin.write_text(plugin.read_text() + "\nimport fjordsync_alexis.settings  # noqa\n")
    result = lint_imports(str(tree))
    assert result.returncode == 1
    assert "Connector plugins never import each other BROKEN" in result.stdout
