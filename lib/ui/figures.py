"""Results every session shares (a figure, an exam, a table), cached by their arguments, and
forgotten when the class has left. The one cache of the pages: a page file runs again on every
rerun, so whatever it computes from settings alone is computed once per server here."""
import streamlit as st

_SHARED = {}  # (file, name) -> the cached function


def shared(max_entries=64):
    """Cache a function's results for all sessions, by its arguments: `@ui.shared()`. A result is
    never changed by the page that reads it (st.plotly_chart, st.dataframe only read), so sessions
    share it without the copy st.cache_data makes on every rerun — unpickling a figure of many
    small images cost tens of milliseconds."""
    def decorate(builder):
        cached = st.cache_resource(max_entries=max_entries, show_spinner=False)(builder)
        # Every page runs as __main__: its file tells two pages' functions of one name apart.
        code = getattr(builder, "__code__", None)
        _SHARED[(code.co_filename if code else builder.__module__, builder.__qualname__)] = cached
        return cached

    return decorate


def shared_figure(builder):
    """A figure builder cached for all sessions (see `shared`)."""
    return shared()(builder)


def forget_figures():
    """Drop every result cached for all sessions (`shared`, and st.cache_data should a page use
    it). Run once the class has left (lib.server.on_class_left): an idle server gives that memory
    back, and the next student's page computes them again."""
    for cached in list(_SHARED.values()):
        cached.clear()
    st.cache_data.clear()
