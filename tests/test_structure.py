"""The house rules, checked on the source: genlab never imports streamlit; pages use only
genlab's public names and all have one shape; no function is 60 lines or longer; genlab's
modules import one another without a circle; only genlab.settings reads the environment;
the Trainer has no closures over shared state; the run directory's files are all documented;
and ruff finds nothing."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from genlab.config import FAMILIES, ConfigError, ModelConfig
from genlab.models import FAMILY_CLASSES, build_model, family_class
from genlab.store import runs
from genlab.training.trainer import Trainer
from tests.support import tiny_run

ROOT = Path(__file__).resolve().parents[1]
GENLAB = sorted((ROOT / "genlab").rglob("*.py"))
PAGES = sorted((ROOT / "app_pages").rglob("*.py")) + [ROOT / "app.py"]
PAGE_SCRIPTS = sorted(p for p in (ROOT / "app_pages").glob("*.py") if p.name != "__init__.py")


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
    source = "from genlab.training.trainer import _json_line\nfrom genlab import jobs\njobs._start(1)\n"
    assert private_genlab_uses(ast.parse(source)) == ["genlab.training.trainer._json_line", "jobs._start"]


def test_no_function_in_genlab_or_the_pages_is_60_lines_or_longer():
    lengths = {f"{p.relative_to(ROOT)}:{n.name}": n.end_lineno - n.lineno + 1
               for p in GENLAB + PAGES for n in ast.walk(tree(p))
               if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    assert {k: v for k, v in lengths.items() if v >= 60} == {}
    assert max(lengths.values()) > 20  # the measure sees real functions
    assert any(k.startswith("app_pages/") for k in lengths)


def test_the_trainer_has_no_nonlocal_closures():
    assert not [n for n in ast.walk(tree(ROOT / "genlab" / "training" / "trainer.py")) if isinstance(n, ast.Nonlocal)]


def page_shape_problems(module: ast.Module) -> list[str]:
    """What keeps a page script from the one shape: imports, constants (UPPER_CASE names),
    functions and classes, then `guard(page)` as its last statement."""
    body = module.body[1:] if isinstance(module.body[0], ast.Expr) else module.body  # after the docstring
    problems = []
    *head, last = body
    if ast.unparse(last) != "guard(page)":
        problems.append(f"ends with {ast.unparse(last)!r}, not guard(page)")
    for node in head:
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef)):
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, ast.AnnAssign) else []
        if not targets or not all(isinstance(t, ast.Name) and t.id.isupper() for t in targets):
            problems.append(f"line {node.lineno}: {ast.unparse(node)[:60]!r} runs at import")
    if not any(isinstance(n, ast.FunctionDef) and n.name == "page" for n in head):
        problems.append("no page() function")
    return problems


def test_every_page_is_a_page_function_run_under_guard():
    assert {p.name: page_shape_problems(tree(p)) for p in PAGE_SCRIPTS if page_shape_problems(tree(p))} == {}
    assert len(PAGE_SCRIPTS) == 12


def test_the_page_shape_check_catches_a_bare_script():
    bare = ast.parse('"""A page."""\nimport streamlit as st\nrun = 3\nst.title("x")\n')
    assert page_shape_problems(bare) == ["ends with \"st.title('x')\", not guard(page)",
                                         "line 3: 'run = 3' runs at import", "no page() function"]


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def module_level_imports(path: Path, known: set[str]) -> set[str]:
    """The genlab modules a module imports when it is imported (imports inside functions run
    later, and are how a module that is needed only at call time avoids a circle).
    `from genlab.a import b` imports genlab.a.b when that is a module, else genlab.a."""
    found = set()
    for node in tree(path).body:
        for inner in ast.walk(node) if isinstance(node, (ast.If, ast.Try)) else [node]:
            if isinstance(inner, ast.Import):
                found |= {a.name for a in inner.names if a.name in known}
            elif isinstance(inner, ast.ImportFrom) and inner.module in known:
                found |= {f"{inner.module}.{a.name}" if f"{inner.module}.{a.name}" in known else inner.module
                          for a in inner.names}
    return found


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import circle, each as the path that closes it (depth-first search)."""
    found, done = [], set()

    def visit(node: str, path: list[str]) -> None:
        if node in path:
            found.append(path[path.index(node):] + [node])
            return
        if node in done:
            return
        for nxt in sorted(graph.get(node, ())):
            visit(nxt, path + [node])
        done.add(node)

    for start in sorted(graph):
        visit(start, [])
    return found


def import_graph() -> dict[str, set[str]]:
    known = {module_name(p) for p in GENLAB}
    return {module_name(p): module_level_imports(p, known) - {module_name(p)} for p in GENLAB}


def test_genlab_modules_import_one_another_without_a_circle():
    graph = import_graph()
    assert circles(graph) == []
    assert "genlab.jobs.fair_queue" in graph["genlab.jobs.actions"]  # the graph sees real imports


# What each package may import (docs/design.md says why, package by package).
MAY_IMPORT = {
    "genlab.config": set(),
    "genlab.settings": {"genlab.config"},
    "genlab.data": {"genlab.settings"},
    "genlab.models": {"genlab.config"},
    "genlab.presets": {"genlab.config", "genlab.data", "genlab.models"},
    "genlab.store": {"genlab.config", "genlab.settings", "genlab.models"},
    "genlab.metrics": {"genlab.data", "genlab.models", "genlab.store"},
    "genlab.views": {"genlab.config", "genlab.models", "genlab.store"},
    "genlab.training": {"genlab.config", "genlab.settings", "genlab.data", "genlab.models", "genlab.metrics",
                        "genlab.store", "genlab.views"},
    "genlab.classroom": {"genlab.config", "genlab.settings", "genlab.store"},
    "genlab.jobs": {"genlab.config", "genlab.settings", "genlab.store", "genlab.training", "genlab.classroom"},
    "genlab.teaching": {"genlab.config", "genlab.presets", "genlab.data", "genlab.models", "genlab.metrics",
                        "genlab.store", "genlab.training", "genlab.views", "genlab.classroom"},
}


def package_of(module: str) -> str:
    return ".".join(module.split(".")[:2])


def test_each_package_imports_only_the_layers_below_it():
    imports: dict[str, set[str]] = {}
    for module, targets in import_graph().items():
        imports.setdefault(package_of(module), set()).update(package_of(t) for t in targets)
    beyond = {package: sorted(targets - MAY_IMPORT[package] - {package})
              for package, targets in imports.items() if package in MAY_IMPORT}
    assert {k: v for k, v in beyond.items() if v} == {}
    assert set(imports) - set(MAY_IMPORT) == {"genlab", "genlab.cli", "genlab.__main__"}


def test_the_circle_check_finds_a_circle():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]


def environment_reads(module: ast.Module) -> list[str]:
    """Every use of os.environ or os.getenv (or of `environ` / `getenv` imported from os)."""
    return [ast.unparse(n) for n in ast.walk(module)
            if (isinstance(n, ast.Attribute) and n.attr in ("environ", "getenv"))
            or (isinstance(n, ast.Name) and n.id in ("environ", "getenv"))]


def test_only_the_settings_module_reads_the_environment():
    readers = {str(p.relative_to(ROOT)): environment_reads(tree(p)) for p in GENLAB + PAGES}
    assert {k: v for k, v in readers.items() if v and k != "genlab/settings.py"} == {}
    assert readers["genlab/settings.py"]  # the check sees real reads
    assert environment_reads(ast.parse("from os import environ\nx = environ.get('GENLAB_RUNS')")) == ["environ"]
    assert environment_reads(ast.parse("import os\nx = os.getenv('GENLAB_RUNS')")) == ["os.getenv"]


def test_ruff_finds_nothing():
    ruff = Path(sys.executable).parent / "ruff"
    if not ruff.exists():
        pytest.skip("ruff is not installed in this environment (requirements-dev.txt installs it)")
    result = subprocess.run([str(ruff), "check", "--no-cache", str(ROOT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


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
    assert "genlab/store/runs.py" in design
    assert "checkpoint.safetensors    the full" not in design  # the old copy of the listing
