"""Streamlit pieces that several pages share: session identity, job controls, live panels."""
