"""A closed tab's session goes for good: what it uploaded leaves the server's memory.

Streamlit 1.67 keeps a closed tab's session for server.disconnectedSessionTTL, then forgets it
without shutting it down (streamlit/streamlit#12506), so its uploaded files stayed in the server
for good; lib.server shuts such sessions down. A real Chromium uploads a real file to a real
`streamlit run` whose closed tabs are kept 1 s and whose clean-up runs every 2 s.

Measured (24 MiB upload): the server's heap grows by ~52 MiB with it, two copies; the shutdown
gives back the uploaded-file manager's (~26 MiB). The other stays: the page's last script
namespace (`upload`) is kept by a fragment's closure (lib.ui.live_run's st.fragment) that no
collectable object refers to — found with gc, not yet cut.
"""
import os

import pytest

from tests.helpers import wait_until
from tests.test_browser import browser, new_tab, settle, streamlit_server  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser
UPLOAD_MB = 24  # well above what a page's render moves the server's heap by, under maxUploadSize (32)


def private_mib(pid):
    """The process's own heap (RssAnon), in MiB."""
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("RssAnon:")) / 1024


@pytest.mark.timeout(600)
def test_a_closed_tabs_upload_leaves_the_server_once_its_session_is_dropped(browser, tmp_path):  # noqa: F811
    upload = tmp_path / "not-a-model.keras"
    upload.write_bytes(os.urandom(UPLOAD_MB * 2 ** 20))
    with streamlit_server("--server.disconnectedSessionTTL", "1", env={"KERAS_CLASSROOM_TRIM_EVERY_S": "2"}) as base:
        pid = streamlit_server.pid
        tab = new_tab(browser)
        tab.goto(f"{base}/save-load?lang=en", timeout=180_000)
        settle(tab)
        before = private_mib(pid)
        tab.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(upload), timeout=120_000)
        refusal = tab.locator('[data-testid="stAlertContentError"]').first
        refusal.wait_for(timeout=120_000)
        assert "a .keras file is a zip archive, and this file is not one" in refusal.inner_text()
        held = private_mib(pid)
        assert held - before >= UPLOAD_MB * 0.9, f"the upload is not in the server: {before:.0f} -> {held:.0f} MiB"
        tab.close()
        wait_until(lambda: private_mib(pid) <= held - UPLOAD_MB * 0.9, 120,
                   lambda: f"the closed tab's upload stayed: {before:.0f} MiB before it, {held:.0f} with it, "
                           f"{private_mib(pid):.0f} two minutes after the tab closed", interval=1)
