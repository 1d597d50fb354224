"""The playground's engine: data, models, background training jobs, inspection.

Nothing in this package imports streamlit, so every piece works from a notebook or a test.
"""
