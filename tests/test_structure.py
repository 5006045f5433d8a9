"""The house rules, checked on the source: genlab never imports streamlit, pages use only
genlab's public names, no function in genlab is 60 lines or longer, the Trainer has no
closures over shared state, and the run directory's files are all documented."""

import ast
from pathlib import Path

import pytest

from genlab import runs
from genlab.config import FAMILIES, ConfigError, ModelConfig
from genlab.models import FAMILY_CLASSES, build_model, family_class
from genlab.train import Trainer
from tests.conftest import tiny_run

ROOT = Path(__file__).resolve().parents[1]
GENLAB = sorted((ROOT / "genlab").rglob("*.py"))
PAGES = sorted((ROOT / "app_pages").rglob("*.py")) + [ROOT / "app.py"]


def tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def imported_modules(module: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(module):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_genlab_never_imports_streamlit():
    offenders = [p.name for p in GENLAB if any(m.split(".")[0] == "streamlit" for m in imported_modules(tree(p)))]
    assert offenders == []


def private_genlab_uses(module: ast.Module) -> list[str]:
    """`from genlab.x import _y`, `genlab.x._y` and `alias._y` where alias names a genlab module."""
    found, aliases = [], set()
    for node in ast.walk(module):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("genlab"):
            if any(part.startswith("_") for part in node.module.split(".")):
                found.append(node.module)
            for a in node.names:
                if a.name.startswith("_"):
                    found.append(f"{node.module}.{a.name}")
                aliases.add(a.asname or a.name)  # a module or a class: its _names are private too
        elif isinstance(node, ast.Import):
            aliases |= {a.asname or a.name for a in node.names if a.name.startswith("genlab")}
    for node in ast.walk(module):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            if isinstance(node.value, ast.Name) and node.value.id in aliases:
                found.append(f"{node.value.id}.{node.attr}")
    return found


def test_pages_use_only_public_names_of_genlab():
    offenders = {p.name: private_genlab_uses(tree(p)) for p in PAGES}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_private_name_check_catches_what_it_should():
    source = "from genlab.train import _json_line\nfrom genlab import jobs\njobs._start(1)\n"
    assert private_genlab_uses(ast.parse(source)) == ["genlab.train._json_line", "jobs._start"]


def test_no_function_in_genlab_is_60_lines_or_longer():
    lengths = {f"{p.relative_to(ROOT)}:{n.name}": n.end_lineno - n.lineno + 1
               for p in GENLAB for n in ast.walk(tree(p)) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    assert {k: v for k, v in lengths.items() if v >= 60} == {}
    assert max(lengths.values()) > 20  # the measure sees real functions


def test_the_trainer_has_no_nonlocal_closures():
    assert not [n for n in ast.walk(tree(ROOT / "genlab" / "train.py")) if isinstance(n, ast.Nonlocal)]


def test_the_family_registry_matches_the_config_and_refuses_unknown_families():
    assert tuple(FAMILY_CLASSES) == FAMILIES
    assert {family_class(f).family for f in FAMILIES} == set(FAMILIES)
    with pytest.raises(ConfigError, match="family must be one of gan, vae, not 'flow'"):
        build_model(ModelConfig(family="flow"), (2,), 0)


def documented_names() -> set[str]:
    """The names in runs.py's listing of a run directory."""
    listing = runs.__doc__.split("checkpoints/<run_id>/")[1].split("States:")[0]
    return {line.split()[0].rstrip("/") for line in listing.splitlines()
            if line.startswith("      ") and not line.startswith("       ")}


def test_every_path_of_a_run_is_documented(runs_dir):
    run = runs.Run(runs_dir / "x")
    paths = {name: getattr(run, name) for name in dir(runs.Run)
             if name.endswith(("_path", "_dir")) and isinstance(getattr(runs.Run, name), property)}
    assert len(paths) >= 12
    assert {p.name for p in paths.values()} == documented_names()


def test_a_trained_and_evaluated_run_holds_only_documented_files(runs_dir):
    run = tiny_run(runs_dir, evaluate=True, eval_samples=100)
    assert Trainer(run).train() == "completed"
    names = {p.name for p in run.path.iterdir()}
    assert names <= documented_names()
    assert {"config.json", "status.json", "dataset.json", "metrics.jsonl", "eval.json",
            "checkpoint.safetensors"} <= names


def test_design_md_points_to_the_listing_instead_of_repeating_it():
    design = (ROOT / "docs" / "design.md").read_text(encoding="utf-8")
    assert "genlab/runs.py" in design
    assert "checkpoint.safetensors    the full" not in design  # the old copy of the listing
