"""In-process tests (unit tests and Streamlit's AppTest) use the ``thread`` backend: their jobs live in this
interpreter, where a test can look at a trainer. The Chromium tests start a real server, which uses its default
(worker processes); ``tests/test_backends.py`` runs the runner's contract against every backend."""

import os

os.environ.setdefault("PLAYGROUND_BACKEND", "thread")
