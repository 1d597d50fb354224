"""In-process tests (unit tests and Streamlit's AppTest) use the ``thread`` backend: their jobs live in this
interpreter, where a test can look at a trainer. The Chromium tests start a real server, which uses its default
(worker processes); ``tests/test_backends.py`` runs the runner's contract against every backend."""

import os

os.environ.setdefault("PLAYGROUND_BACKEND", "thread")

import pytest  # noqa: E402
import torch  # noqa: E402


@pytest.fixture
def one_thread():
    """One intra-op thread, as jobs train (a module asks for it with ``pytest.mark.usefixtures``)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
