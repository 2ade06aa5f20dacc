"""Write docs/reference.md from the numpydoc docstrings of every public class and function.

    python docs/make_reference.py

The public API is what ``fkp_classic/__init__.pyi`` declares: the names it
imports at the top level, then each subpackage it names with that
subpackage's own ``__all__``.
"""

import inspect
import types
from pathlib import Path

import fkp_classic

TARGET = Path(__file__).resolve().parent / "reference.md"


def _entry(name, obj):
    try:
        signature = str(inspect.signature(obj))
    except (TypeError, ValueError):
        signature = ""
    doc = inspect.cleandoc(obj.__doc__ or "(no docstring)")
    return f"### `{name}{signature}`\n\n```text\n{doc}\n```\n"


def _documented(module, names):
    """Classes and functions among ``names`` of ``module`` (constants and submodules are left out)."""
    out = []
    for name in names:
        obj = getattr(module, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            out.append((name, obj))
    return out


def render():
    api = fkp_classic.__all__
    modules = [name for name in api if isinstance(getattr(fkp_classic, name), types.ModuleType)]
    top = [name for name in api if name not in modules]
    parts = ["# Reference\n", "Generated from the docstrings by `python docs/make_reference.py`: every public class "
             "and function, as `fkp_classic/__init__.pyi` declares them.\n",
             "## `fkp_classic`\n", "The names importable from `fkp_classic` itself.\n"]
    parts += [_entry(name, obj) for name, obj in _documented(fkp_classic, top)]
    for module_name in modules:
        module = getattr(fkp_classic, module_name)
        names = [n for n in getattr(module, "__all__", []) if n not in top]
        entries = _documented(module, names)
        if not entries:
            continue
        summary = inspect.cleandoc(module.__doc__ or "").split("\n\n")[0]
        parts.append(f"## `fkp_classic.{module_name}`\n\n{summary}\n")
        parts += [_entry(f"{module_name}.{name}", obj) for name, obj in entries]
    return "\n".join(parts)


if __name__ == "__main__":
    TARGET.write_text(render())
    print(f"wrote {TARGET}")
