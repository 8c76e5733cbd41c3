"""The layout is the data flow: every import in assistant/ and ui/ points down the stages, and no
module hides an import in a function body to dodge a cycle.

An import inside a function is allowed only where it keeps start-up fast or an optional extra
optional, and says so in a comment on its line or the line above ("lazy", "optional", "extra",
"start-up", "heavy"); a module over 300 lines in assistant/ or ui/ is a module doing too much."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = {"config", "config_sources", "types", "errors", "validation", "names", "atomic", "jsonl", "sentences",
          "citations", "_offline", "models", "inference", "config_errors"}
# Higher runs on lower; an import may only go to the same or a lower stage.
STAGE = {"ingest": 1, "index": 2, "llm": 2, "retrieval": 3, "answer": 3, "engine": 4, "snapshots": 4, "collection_calibration": 4,
         "engine_pool": 4, "documents": 4, "arguments": 4, "conversation": 5, "facade": 6, "api": 6,
         "serving": 7, "evaluation": 7, "integrations": 7, "ui": 8, "__init__": 9, "__main__": 9}
REASONS = ("lazy", "optional", "extra", "start-up", "startup", "heavy")
MAX_LINES = 300


def stage_of(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] == "ui":
        return STAGE["ui"]
    if parts[0] != "assistant" or len(parts) < 2:
        return STAGE["__init__"] if module == "assistant" else None
    if parts[1] in SHARED:
        return 0
    return STAGE.get(parts[1])


def is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imports(path: Path) -> list[tuple[int, str, bool]]:
    """(line, imported module, inside a function body) of every assistant/ui import of a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    in_body = {id(n) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
               for n in ast.walk(f) if isinstance(n, (ast.Import, ast.ImportFrom))}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # "from assistant import atomic" imports the module assistant.atomic, not the package
            names = [f"{node.module}.{a.name}" if is_module(f"{node.module}.{a.name}") else node.module for a in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found += [(node.lineno, name, id(node) in in_body) for name in names if name.split(".")[0] in ("assistant", "ui")]
    return found


def modules() -> list[tuple[str, Path]]:
    paths = sorted((ROOT / "assistant").rglob("*.py")) + sorted((ROOT / "ui").rglob("*.py"))
    return [(".".join(p.relative_to(ROOT).with_suffix("").parts), p) for p in paths]


def test_imports_point_down_the_stages() -> None:
    upward = []
    for name, path in modules():
        source = stage_of(name)
        assert source is not None, f"{name}: not in a known stage; add its folder to STAGE or SHARED"
        for line, target, _ in imports(path):
            target_stage = stage_of(target)
            if target_stage is not None and target_stage > source:
                upward.append(f"{path.relative_to(ROOT)}:{line}: imports {target}")
    assert not upward, "imports from a lower stage to a higher one:\n" + "\n".join(upward)


def test_imports_in_function_bodies_say_why() -> None:
    unexplained = []
    for _, path in modules():
        lines = path.read_text(encoding="utf-8").splitlines()
        for line, target, in_body in imports(path):
            said = " ".join(lines[max(0, line - 4):line]).lower()  # its line and the three above
            if in_body and not any(reason in said for reason in REASONS):
                unexplained.append(f"{path.relative_to(ROOT)}:{line}: {target}")
    assert not unexplained, "imports inside function bodies without a comment saying why:\n" + "\n".join(unexplained)


def test_no_module_in_assistant_or_ui_is_over_300_lines() -> None:
    paths = [path for _, path in modules()]
    assert any(p.parent.name == "ui" for p in paths), "the check must see ui/ too"
    long = [f"{p.relative_to(ROOT)}: {n}" for p in paths if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES]
    assert not long, "modules over 300 lines:\n" + "\n".join(long)


def test_the_checks_see_an_upward_import(tmp_path: Path) -> None:
    module = tmp_path / "probe.py"
    module.write_text("def f():\n    from assistant.serving.cli import main\n", encoding="utf-8")
    [(line, target, in_body)] = imports(module)
    assert (line, target, in_body) == (2, "assistant.serving.cli", True)
    assert stage_of(target) > stage_of("assistant.index.run")
