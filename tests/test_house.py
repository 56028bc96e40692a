"""The shape of the code (ARCHITECTURE.md): arrows run one way, a module is one job and short,
lessons read like the lesson."""
import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]
MAX_MODULE_LINES = 400
MAX_LESSON_LINE = 100


def lib_imports():
    """{module: the lib modules it imports, at the top or inside a function}."""
    graph = {}
    for path in sorted((ROOT / "lib").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names if a.name.startswith("lib")}
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("lib"):
                found |= {f"{node.module}.{a.name}" if f"{node.module}.{a.name}".replace(".", "/") in
                          {p.relative_to(ROOT).with_suffix("").as_posix().removesuffix("/__init__")
                           for p in (ROOT / "lib").rglob("*.py")} else node.module for a in node.names}
        graph[name] = found - {name}
    return graph


def test_no_module_of_lib_imports_the_pages_layer_from_below():
    below_ui = {m: deps for m, deps in lib_imports().items() if not m.startswith("lib.ui")}
    assert {m: sorted(d for d in deps if d.startswith("lib.ui")) for m, deps in below_ui.items()
            if any(d.startswith("lib.ui") for d in deps)} == {}


def test_there_is_no_import_circle_in_lib():
    graph = lib_imports()

    def package_of(module):  # importing lib.x.y runs lib.x's __init__ too
        return [".".join(module.split(".")[:k]) for k in range(2, module.count(".") + 2)]

    edges = {m: {p for d in deps for p in package_of(d) if p in graph and p != m and not m.startswith(p + ".")}
             for m, deps in graph.items()}
    circles, done = [], set()

    def visit(module, path):
        if module in path:
            circles.append(path[path.index(module):] + [module])
            return
        if module in done:
            return
        for nxt in sorted(edges[module]):
            visit(nxt, path + [module])
        done.add(module)

    for module in sorted(edges):
        visit(module, [])
    assert circles == []


def test_every_module_of_lib_is_shorter_than_400_lines():
    lengths = {p.relative_to(ROOT).as_posix(): len(p.read_text().splitlines()) for p in (ROOT / "lib").rglob("*.py")}
    assert {p: n for p, n in lengths.items() if n > MAX_MODULE_LINES} == {}


def test_at_most_two_percent_of_lesson_lines_are_longer_than_100_characters():
    lines = [line for p in sorted((ROOT / "lessons").glob("*.py")) for line in p.read_text().splitlines()]
    long = [line for line in lines if len(line) > MAX_LESSON_LINE]
    assert len(long) <= 0.02 * len(lines), f"{len(long)} of {len(lines)} lesson lines are over 100 characters"


def test_every_refusal_of_lib_is_one_type_and_has_its_message_in_both_languages():
    import lib
    from lib import errors, i18n
    import importlib
    import pkgutil

    for module in pkgutil.walk_packages(lib.__path__, "lib."):
        if not module.name.startswith("lib.ui"):
            importlib.import_module(module.name)

    def subclasses(cls):
        return {cls} | {s for sub in cls.__subclasses__() for s in subclasses(sub)}

    refusals = subclasses(errors.Refusal) - {errors.Refusal}
    assert {c.__name__ for c in refusals} >= {
        "PoolError", "ActivationError", "ImageUnreadable", "ModelUnfit", "EmptyDrawing", "OptimizerError",
        "LossError", "TrainingError", "SavingError", "KernelError", "ModelSpecError", "PassTooCostly"}
    for cls in refusals:
        for lang in i18n.LANGUAGES:
            assert any(key.startswith(cls.catalog + ".") for key in i18n.catalog(lang)), (cls, lang)
    # no error class of lib carries its own (code, message, details) any more: they are all Refusals
    own = [cls.__name__ for cls in subclasses(ValueError) if cls.__module__.startswith("lib.")
           and not issubclass(cls, errors.Refusal)]
    assert own == []


# DESIGN.md's public face of lib: a contract (add, don't rename), whatever moves where.
PUBLIC = {
    "lib.data": "load_dataset DATASETS DatasetUnavailable sample_image SAMPLE_IMAGES toy_2d",
    "lib.filters": "KERNELS convolve",
    "lib.pooling": "pool",
    "lib.activations": "ACTIVATIONS evaluate softmax Maxout",
    "lib.optimizers": "OPTIMIZERS SURFACES trajectory",
    "lib.evaluate": "confusion_matrix confident_mistakes layer_outputs preprocess_drawing EmptyDrawing class_model "
                    "ClassModel ModelUnfit report dense_unit",
    "lib.saving": "to_bytes inspect_archive load_upload BadArchive UnsafeModel",
    "lib.models": "build_sequential summary_table ModelSpecError",
}


def test_every_public_name_of_lib_in_the_design_is_still_there():
    import importlib

    missing = {module: [name for name in names.split() if not hasattr(importlib.import_module(module), name)]
               for module, names in PUBLIC.items()}
    assert {m: names for m, names in missing.items() if names} == {}
    from lib import models

    assert issubclass(models.ModelSpecError, ValueError)  # "a stack Keras rejects raises ValueError"
