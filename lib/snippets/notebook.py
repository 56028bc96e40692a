"""The code panel taken home: the shown code as a `.py` file and as a Jupyter notebook.

The notebook is the keras-io voice made into cells: one step of the code a cell, each after a
short markdown cell that says what the step does. The steps are the code's own `## ...`
sections (the templates' headings). The part before the first heading is cut where the code
itself turns to something new: its docstring, imports and settings first (keras-io's "Setup"),
then at a block led by a comment (`# The image: ...`, whose text titles the step) or by a
definition (`def digits_split`, titled with what the step defines and makes). No step starts
inside a statement, so every cell is whole Python.

The code cells joined by newlines are the shown code, character for character (the blank lines
between two steps end the upper cell), so the notebook runs what the page ran and prints what
it printed. Pure: no Streamlit here (lib.ui draws the buttons).
"""
import ast
import dataclasses
import functools

import nbformat

from lib.i18n import translate
from lib.snippets.render import parse

MARKDOWN_SPECIALS = "\\`*_[]<>$"  # escaped in the code's own words: a cell shows them as written
SHOWN_NAMES = 5  # "Defines `a`, `b`, …": names beyond these are cut
DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
IMPORTS = (ast.Import, ast.ImportFrom)


@dataclasses.dataclass(frozen=True)
class Step:
    """One code cell, and what it does in markdown in the page's language: a title, maybe a note."""
    title: str
    code: str
    note: str = ""


def script(code):
    """The `.py` file: the shown code itself, byte for byte, in UTF-8."""
    return code.encode("utf-8")


def steps(code, lang):
    """The code cut into steps: `"\\n".join(step.code for step in steps(code, lang)) == code`.
    Code that does not parse is one step."""
    lines = code.split("\n")
    try:
        statements = _statements(parse(code))
    except SyntaxError:
        return [Step(translate("code.notebook.whole", lang), code)]
    inside = _continuation_lines(statements, len(lines))
    headings = [i for i, line in enumerate(lines) if line.startswith("## ") and not inside[i]]
    drafts = _prologue(lines, headings[0] if headings else len(lines), inside, statements)
    drafts += [_Draft(_escaped(lines[i][3:].strip()), i) for i in headings]
    if not drafts:
        drafts = [_Draft("", 0)]
    drafts[0].start = 0  # blank lines before anything go with the first step
    ends = [d.start for d in drafts[1:]] + [len(lines)]
    return [_step(d, "\n".join(lines[d.start:end]), lang) for d, end in zip(drafts, ends)]


@functools.lru_cache(maxsize=64)  # built once per code text: a rerun of the page costs nothing
def notebook(code, lang, title=None):
    """The notebook as nbformat 4 JSON text: a title cell, then for each step a markdown cell that
    says what it does and the step's code. `title` defaults to the code docstring's first line."""
    heading = title or _docstring_title(code) or translate("code.notebook.title", lang)
    cells = [_markdown("intro", f"# {_escaped(heading)}", translate("code.notebook.intro", lang))]
    for n, step in enumerate(steps(code, lang), start=1):
        cells.append(_markdown(f"step-{n}-text", f"## {step.title}", step.note))
        cells.append({"cell_type": "code", "id": f"step-{n}-code", "metadata": {},
                      "source": step.code, "execution_count": None, "outputs": []})
    book = {"nbformat": 4, "nbformat_minor": 5, "cells": cells, "metadata": {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"}}}
    return nbformat.writes(nbformat.from_dict(book))  # (writes validates the whole notebook once)


def _markdown(cell_id, heading, note=""):
    text = f"{heading}\n\n{note}" if note else heading
    return {"cell_type": "markdown", "id": cell_id, "metadata": {}, "source": text}


# --- The part before the first heading -----------------------------------------------------------

@dataclasses.dataclass
class _Draft:
    """A step being gathered: its title (empty: described from its code), its first line."""
    title: str
    start: int
    kind: str = "plain"  # or "setup", "comment", "imports", "define" (before the first heading)
    defined: tuple = ()
    made: tuple = ()
    ends_with_definition: bool = False


def _statements(tree):
    """(first line, last line, node) of each top-level statement, 0-based, decorators included."""
    def first(node):
        return min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])

    return [(first(n) - 1, n.end_lineno - 1, n) for n in tree.body]


def _continuation_lines(statements, count):
    """True for a line of a statement after its first: no step may start there."""
    inside = [False] * count
    for first, last, _ in statements:
        for i in range(first + 1, last + 1):
            inside[i] = True
    return inside


def _blocks(lines, start, end, inside):
    """(first, last + 1) of each run of lines a blank line apart, each starting at column 0
    between statements (a blank line inside a function keeps its block whole)."""
    firsts = [i for i in range(start, end) if lines[i][:1].strip() and not inside[i]
              and (i == start or not lines[i - 1].strip())]
    return list(zip(firsts, firsts[1:] + [end]))


def _setup_like(node, docstring_allowed):
    """An import, the docstring, a CONSTANT = ... or the seed: what keras-io's "Setup" holds."""
    if isinstance(node, IMPORTS):
        return True
    if isinstance(node, ast.Assign):
        names = _names_of(node.targets)
        plain = all(isinstance(t, (ast.Name, ast.Tuple, ast.List)) for t in node.targets)
        return plain and bool(names) and all(name.isupper() for name in names)
    value = node.value if isinstance(node, ast.Expr) else None
    if isinstance(value, ast.Constant):
        return docstring_allowed and isinstance(value.value, str)
    return isinstance(value, ast.Call) and getattr(value.func, "attr", None) == "set_random_seed"


def _names_of(targets):
    """The plain names an assignment binds, nested tuples included (`(x, y), (u, v) = ...`)."""
    names = []
    for target in targets:
        if isinstance(target, ast.Name):
            names.append(target.id)
        elif isinstance(target, (ast.Tuple, ast.List)):
            names += _names_of(target.elts)
    return names


def _setup_end(lines, end, statements):
    """Where keras-io's "Setup" ends: at the first statement that is not of its kind or that a
    comment announces (the comment lines just above it go with it)."""
    for first, _, node in statements:
        if first >= end:
            break
        announced = first > 0 and lines[first - 1].startswith("#")
        if announced or not _setup_like(node, node is statements[0][2]):
            while first > 0 and lines[first - 1].startswith("#"):
                first -= 1
            return first
    return end


def _prologue(lines, end, inside, statements):
    """The steps before the first heading (see the module docstring)."""
    setup_end = _setup_end(lines, end, statements)
    settings = tuple(name for first, _, n in statements if first < setup_end
                     and isinstance(n, ast.Assign) for name in _names_of(n.targets))
    has_setup = any(first < setup_end for first, _, _ in statements)
    drafts = [_Draft("", 0, kind="setup", made=settings)] if has_setup else []
    for first, last in _blocks(lines, setup_end, end, inside):
        nodes = [n for line, _, n in statements if first <= line < last]
        current = drafts[-1] if drafts else None
        comment = _escaped(lines[first].lstrip("#").strip()) if lines[first][:1] == "#" else None
        imports = all(isinstance(n, IMPORTS) for n in nodes)
        defines = bool(nodes) and isinstance(nodes[0], DEFINITIONS)
        if comment and current is not None and current.kind == "imports":  # an import, with its use
            current.title, current.kind = comment, "comment"
        elif comment:
            current = _Draft(comment, first, kind="comment")
        elif defines and current is not None and current.kind == "imports":
            current.kind = "define"
        elif defines and not (current is not None and current.ends_with_definition):
            current = _Draft("", first, kind="define")  # (definitions one after another: one step)
        elif not defines and (current is None or current.kind == "setup"):
            current = _Draft("", first, kind="imports" if imports else "plain")
        elif current.kind == "imports" and not imports:
            current.kind = "plain"
        if not drafts or current is not drafts[-1]:
            drafts.append(current)
        current.defined += tuple(n.name for n in nodes if isinstance(n, DEFINITIONS))
        current.made += tuple(name for n in nodes if isinstance(n, ast.Assign)
                              for name in _names_of(n.targets) if not name.isupper())
        current.ends_with_definition = bool(nodes) and all(isinstance(n, DEFINITIONS)
                                                           for n in nodes)
    return drafts


def _step(draft, code, lang):
    """The step of a draft; one with neither a heading nor a comment is described from its code."""
    if draft.title:
        return Step(draft.title, code)
    if draft.kind == "setup":
        note = "code.notebook.setup_settings" if draft.made else "code.notebook.setup_imports"
        return Step(translate("code.notebook.setup", lang), code, translate(note, lang))
    shown = {key: _listed(names) for key, names in (("defined", draft.defined),
                                                     ("made", draft.made)) if names}
    if not shown:
        return Step(translate("code.notebook.next", lang), code)
    return Step(translate(f"code.notebook.{'_and_'.join(shown)}", lang, **shown), code)


def _listed(names):
    unique = list(dict.fromkeys(names))
    more = ", …" if len(unique) > SHOWN_NAMES else ""
    return ", ".join(f"`{n}`" for n in unique[:SHOWN_NAMES]) + more


def _docstring_title(code):
    try:
        docstring = ast.get_docstring(parse(code))
    except SyntaxError:
        return None
    return docstring.strip().split("\n")[0] if docstring else None


def _escaped(text):
    return "".join("\\" + c if c in MARKDOWN_SPECIALS else c for c in text)
