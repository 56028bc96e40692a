"""A closed tab's session goes for good: what it uploaded leaves the server's memory.

Streamlit 1.67 keeps a closed tab's session for server.disconnectedSessionTTL, then forgets it
without shutting it down (streamlit/streamlit#12506), so its uploaded files stayed in the server
for good; lib.server shuts such sessions down. A real Chromium uploads a real file to a real
`streamlit run` whose closed tabs are kept 1 s and whose clean-up runs every 2 s.

The file is followed by its own bytes: the server's allocator gives a block this large a mapping
of its own (lib.server sets glibc's mmap threshold to 1 MB), so each copy of the upload alive in
the server is found whole in its anonymous memory (/proc/PID/mem). Before the fix two
copies outlived the tab: the uploaded-file manager's, and the page's last namespace's (its
`upload` global, kept by a fragment's closure; the page now reads the upload in a function).
"""
import os

import pytest

from tests.helpers import wait_until
from tests.test_browser import browser, new_tab, settle, streamlit_server  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser
UPLOAD_BYTES = 24 * 2 ** 20  # random bytes, found only where the upload is; under maxUploadSize (32 MB)


def upload_copies(pid, data):
    """How many whole copies of `data` the process's anonymous memory holds. Only mappings at least
    as large as the upload are read: the server's allocator gives a block this large a mapping of
    its own, which the kernel may merge with a neighbouring one (it did beside a class's load)."""
    head, copies = data[:4096], 0
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", buffering=0) as mem:
        for line in maps:
            fields = line.split()
            low, high = (int(v, 16) for v in fields[0].split("-"))
            if high - low < len(data) or len(fields) > 5 or not fields[1].startswith("rw"):
                continue  # too small, backed by a file or named ([heap], [stack]), or not writable
            try:
                mem.seek(low)
                region = mem.read(high - low)
            except OSError:
                continue
            at = region.find(head)
            while at != -1:
                copies += region[at:at + len(data)] == data
                at = region.find(head, at + 1)
    return copies


@pytest.mark.timeout(600)
def test_a_closed_tabs_upload_leaves_the_server_once_its_session_is_dropped(browser, tmp_path):  # noqa: F811
    upload = tmp_path / "not-a-model.keras"
    data = os.urandom(UPLOAD_BYTES)
    upload.write_bytes(data)
    with streamlit_server("--server.disconnectedSessionTTL", "1", env={"KERAS_CLASSROOM_TRIM_EVERY_S": "2"}) as base:
        pid = streamlit_server.pid
        tab = new_tab(browser)
        tab.goto(f"{base}/save-load?lang=en", timeout=180_000)
        settle(tab)
        assert upload_copies(pid, data) == 0
        tab.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(upload), timeout=120_000)
        refusal = tab.locator('[data-testid="stAlertContentError"]').first
        refusal.wait_for(timeout=120_000)
        assert "a .keras file is a zip archive, and this file is not one" in refusal.inner_text()
        assert upload_copies(pid, data) >= 1, "the upload is not in the server's memory"
        tab.close()
        wait_until(lambda: upload_copies(pid, data) == 0, 120,
                   lambda: f"{upload_copies(pid, data)} copies of the closed tab's upload stayed in the server", interval=1)
