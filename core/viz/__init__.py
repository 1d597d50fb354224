"""Plotly figure builders: pure functions, arrays in, ``go.Figure`` out (testable without a browser)."""
