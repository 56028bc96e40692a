"""When a page in a real browser has settled, as the benches (and the one-tab walker) read it."""


def quiet_js(quiet_ms, *, spinner=False, limit_ms=120_000):
    """A script for Playwright's `evaluate`: it resolves once the page has not changed for `quiet_ms`
    while Streamlit's running indicator (and, with `spinner`, a spinner the page shows) is gone, with
    the milliseconds from its start to the page's last change; -1 after `limit_ms`."""
    busy = '[data-testid="stStatusWidget"]' + (', [data-testid="stSpinner"]' if spinner else "")
    return """() => new Promise(done => {
  const start = performance.now(); let last = start;
  const watch = new MutationObserver(() => { last = performance.now(); });
  watch.observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});
  const busy = () => !!document.querySelector('BUSY');
  const tick = () => {
    const now = performance.now();
    if (!busy() && now - last > QUIET) { watch.disconnect(); done(last - start); }
    else if (now - start > LIMIT) { watch.disconnect(); done(-1); }
    else setTimeout(tick, 20);
  };
  setTimeout(tick, 20);
})""".replace("BUSY", busy).replace("QUIET", str(quiet_ms)).replace("LIMIT", str(limit_ms))
