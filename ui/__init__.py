"""Streamlit pieces that several pages share: session identity, job controls, the live-panel primitive, settings
bound to the URL, the language, the page catalog and the model shelf."""
