"""The Convolution filters page's kernel editor: a 3×3 or 5×5 grid of typed cells, started from
the class link's cells or the last preset chosen, kept in the URL, and read as a kernel."""
import streamlit as st

from lib import filters
from lib.ui.text import say, t


def kernel_editor(key, on_change=None):
    """The custom kernel the student types (float32), or None while a cell is not a number (the
    editor says which). Widget keys from `key`: size, cells<n>, cells_now, cells_start, editor.
    `on_change`: called when a cell or the size changes (a page drawn in parts redraws them)."""
    import pandas as pd  # here: a fresh server's first page (most pages) need not wait 0.35 s for it

    rows = _custom_cells(key)
    st.session_state[key("size")] = len(rows)  # the grid's size; changing it resizes the grid
    st.segmented_control(t("filters.size"), [3, 5], key=key("size"), required=True,
                         format_func=lambda n: f"{n}×{n}", on_change=_resize_editor, args=(key, on_change))
    grid = pd.DataFrame(rows, columns=[str(c + 1) for c in range(len(rows))])
    editor = key(f"cells{st.session_state[key('editor')]}")
    edited = st.data_editor(grid, key=editor, hide_index=True, width="stretch", on_change=on_change)
    cells = edited.astype(str).to_numpy().tolist()
    st.session_state[key("cells_now")] = cells  # what a resize of the grid starts from
    st.query_params[key("cells")] = filters.encode_cells(cells)
    st.caption(t("filters.cells_hint"))
    try:
        kernel = filters.parse_kernel(cells)
    except filters.KernelError as e:
        say(e, icon=":material/grid_off:")
        return None
    if filters.is_all_zero(kernel):
        st.warning(t("filters.all_zero"), icon=":material/exposure_zero:")
    return kernel


def _start_editor(key, rows):
    """A fresh custom-kernel editor (a new widget key) holding these typed cells."""
    st.session_state[key("cells_start")] = rows
    st.session_state[key("editor")] = st.session_state.get(key("editor"), 0) + 1


def _resize_editor(key, then=None):
    """The grid's size changed: a fresh editor holding the typed cells, cut or padded to it."""
    typed = st.session_state[key("cells_now")]
    _start_editor(key, filters.resize_cells(typed, st.session_state[key("size")]))
    if then is not None:
        then()


def _custom_cells(key):
    """The grid the custom editor starts from: the link's cells, else the last preset chosen."""
    if key("cells_start") not in st.session_state:
        last_preset = st.session_state.get(key("last_preset"), "sobel_x")
        preset = filters.kernel_text(filters.KERNELS[last_preset])
        linked = st.query_params.get(key("cells"))
        rows = filters.decode_cells(linked) if linked else preset
        if len(rows) not in (3, 5) or any(len(r) != len(rows) for r in rows):
            st.warning(t("filters.bad_link_cells"))
            rows = preset
        _start_editor(key, rows)
    return st.session_state[key("cells_start")]
