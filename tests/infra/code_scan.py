"""What the Lambda code can do, read from its source: the modules a handler can reach, the metrics
they emit, and the AWS calls they make, for tests that hold the infrastructure to the code.

The scan is static and deliberately generous: a module counts as reachable when anything reachable
imports it, anywhere in its body (imports inside functions too), so a grant or alarm the tests
accept is one some reachable code could need.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

FUNCTIONS_DIR = Path(__file__).resolve().parents[2] / "functions"

# Methods on a Powertools Metrics object, or the pipeline's recorder, whose first argument is a metric name.
METRIC_CALLS = {"add_metric", "count", "timing", "single_metric"}


@functools.cache
def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), str(path))


def module_path(module: str) -> Path | None:
    """The source file of a module of functions/ (package or module), or None if it is not ours."""
    base = FUNCTIONS_DIR.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(FUNCTIONS_DIR).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    # Importing a.b.c imports a and a.b too.
    return {".".join(m.split(".")[:i]) for m in found for i in range(1, m.count(".") + 2)}


def reachable_modules(handler: str) -> list[Path]:
    """Every module of functions/ the handler's module can import, transitively."""
    start = module_path(handler.rpartition(".")[0])
    assert start is not None, f"handler {handler} has no module under functions/"
    seen: dict[Path, None] = {}
    todo = [start]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen[path] = None
        todo += [p for m in _imports(path) if (p := module_path(m)) is not None and p not in seen]
    return sorted(seen)


def _string_constants(modules: list[Path]) -> dict[str, str]:
    constants: dict[str, str] = {}
    for path in modules:
        for node in _tree(path).body:
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                constants.update({t.id: node.value.value for t in node.targets if isinstance(t, ast.Name)})
    return constants


def _literal_strings(node: ast.AST) -> set[str]:
    return {n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def emitted_metric_names(handler: str) -> set[str]:
    """Metric names the handler's reachable code passes to a metrics call: literals, module constants, and
    (for a name held in a variable) the strings of its module's constant tables such as
    ``(("partials_dropped", "PartialResultsDropped"), ...)``."""
    modules = reachable_modules(handler)
    constants = _string_constants(modules)
    names: set[str] = set()
    for path in modules:
        tree = _tree(path)
        tables = set().union(*[_literal_strings(n.value) for n in tree.body
                               if isinstance(n, ast.Assign) and isinstance(n.value, (ast.Tuple, ast.List))] or [set()])
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in METRIC_CALLS) \
                    and not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in METRIC_CALLS):
                continue
            argument = next((k.value for k in node.keywords if k.arg == "name"), node.args[0] if node.args else None)
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                names.add(argument.value)
            elif isinstance(argument, ast.Attribute) and argument.attr in constants:
                names.add(constants[argument.attr])
            elif isinstance(argument, ast.Name):
                names |= {constants[argument.id]} if argument.id in constants else tables
    return names


def attribute_calls(handler: str, receivers: set[str]) -> set[tuple[str, str]]:
    """(receiver, method) for every call ``<...>.receiver.method(...)`` in the handler's reachable code."""
    found: set[tuple[str, str]] = set()
    for path in reachable_modules(handler):
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                owner = node.func.value
                name = owner.attr if isinstance(owner, ast.Attribute) else owner.id if isinstance(owner, ast.Name) else None
                if name in receivers:
                    found.add((name, node.func.attr))
    return found


def method_table_operations(module: str, class_name: str) -> dict[str, set[str]]:
    """Public method -> the boto3 Table operations (``get_item`` ...) it calls on ``self._table``, following
    calls to the class's own private helpers."""
    path = module_path(module)
    assert path is not None, module
    [cls] = [n for n in _tree(path).body if isinstance(n, ast.ClassDef) and n.name == class_name]
    methods = {n.name: n for n in cls.body if isinstance(n, ast.FunctionDef)}

    def direct(method: ast.FunctionDef) -> tuple[set[str], set[str]]:
        operations, helpers = set(), set()
        for node in ast.walk(method):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute) and node.value.attr == "_table":
                operations.add(node.attr)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self" \
                    and node.attr in methods:
                helpers.add(node.attr)
        return operations, helpers

    def closure(name: str, seen: frozenset[str] = frozenset()) -> set[str]:
        operations, helpers = direct(methods[name])
        for helper in helpers - seen - {name}:
            operations |= closure(helper, seen | {name})
        return operations

    return {name: closure(name) for name in methods if not name.startswith("_")}


def _batch_names(tree: ast.AST) -> set[str]:
    """Names bound by ``with table.batch_writer() as batch``: their put/delete calls are one BatchWriteItem."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.With):
            for item in node.items:
                call = item.context_expr
                if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "batch_writer" \
                        and isinstance(item.optional_vars, ast.Name):
                    names.add(item.optional_vars.id)
    return names


def client_operations(handler: str, operations: set[str]) -> set[str]:
    """Which of the named boto3 operations (``get_item``, ``invoke`` ...) the handler's reachable code calls
    or passes on (``conditional(table.update_item, ...)``); ``batch.put_item`` inside ``batch_writer``
    counts as ``batch_writer``."""
    found: set[str] = set()
    for path in reachable_modules(handler):
        tree = _tree(path)
        batches = _batch_names(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in operations:
                if isinstance(node.value, ast.Name) and node.value.id in batches:
                    continue
                found.add(node.attr)
    return found
