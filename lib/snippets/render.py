"""The template engine of the shown code: `render` fills `templates/<name>.tmpl` with settings,
pieces of code and the page-language texts (see lib.snippets)."""
import ast
import functools
import inspect
import pathlib
import re
import textwrap
import threading

from lib import i18n
from lib.i18n import translate

TEMPLATES = pathlib.Path(__file__).resolve().parent / "templates"
MARKER = re.compile(r"«(t:)?([A-Za-z0-9_.]+)»")


class Code(str):
    """Python source to put into a template as it is (a setting is written as a literal instead)."""


def literal(value):
    """A Python literal as the keras-io examples write it: strings in double quotes."""
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, tuple):
        return "(" + ", ".join(literal(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in value.items()) + "}"
    return repr(value)


def source_of(*objects):
    """The source of real functions and classes of `lib`, as the shown code includes them."""
    return Code("\n\n".join(_source(o) for o in objects))


def source_in(module, name):
    """The source of the function or class `name` defined at the top of `module` (dotted), read
    from its file without importing it: a page whose code shows a piece of the training worker
    (which imports Keras) need not wait for Keras to write it."""
    return Code(_source_in(module, name))


_PARSING = threading.Lock()


@functools.lru_cache(maxsize=16)
def _source_in(module, name):
    import importlib.util

    text = pathlib.Path(importlib.util.find_spec(module).origin).read_text(encoding="utf-8")
    with _PARSING:
        tree = ast.parse(text)
    node = next(node for node in tree.body if getattr(node, "name", None) == name)
    first = min([node.lineno] + [decorator.lineno for decorator in getattr(node, "decorator_list", [])])
    return textwrap.dedent("\n".join(text.splitlines()[first - 1:node.end_lineno])).rstrip()


@functools.lru_cache(maxsize=64)
def _source(obj):
    """One object's source, read once: inspect parses the whole module with `ast`, which is not
    safe from two threads at once in CPython 3.11 (SystemError "AST constructor recursion depth
    mismatch", seen with two students opening Training together)."""
    with _PARSING:
        return textwrap.dedent(inspect.getsource(obj)).rstrip()


def parse(code):
    """`ast.parse(code)`, one thread at a time: every parse of lib's goes through `_PARSING` (see
    `_source`; the notebook's steps hit the same SystemError with 30 students on the sliders)."""
    with _PARSING:
        return ast.parse(code)


def render(template, lang, **values):
    """The template `templates/<template>.tmpl` filled with `values` (see the module docstring).
    Every marker needs a value and every value a marker, so a template and its page cannot drift
    apart silently. A marker alone on its line whose Code is empty removes the line."""
    text = (TEMPLATES / f"{template}.tmpl").read_text()
    used = {name for key in re.findall(r"«t:([A-Za-z0-9_.]+)»", text)  # values the texts take, e.g. {factor}
            for name in i18n.placeholders(translate(f"code.{key}", lang))}
    words = {k: str(v) for k, v in values.items()}

    def fill(match, indent):
        if match.group(1):
            return translate(f"code.{match.group(2)}", lang, **words)
        name = match.group(2)
        used.add(name)
        value = values[name]
        if isinstance(value, Code):
            return value.replace("\n", "\n" + indent)
        return literal(value)

    lines = []
    for line in text.split("\n"):
        alone = MARKER.fullmatch(line.strip())
        if alone and not alone.group(1) and isinstance(values.get(alone.group(2)), Code) \
                and not values[alone.group(2)].strip():
            used.add(alone.group(2))
            continue
        indent = line[:len(line) - len(line.lstrip())]
        lines.append(MARKER.sub(lambda m: fill(m, indent), line))
    unused = set(values) - used
    if unused:
        raise ValueError(f"{template}: values with no marker: {sorted(unused)}")
    return "\n".join(lines)


def piece(template, lang, **values):
    """A rendered template as a Code piece of a larger one."""
    return Code(render(template, lang, **values).rstrip("\n"))
