"""Looking inside trained models: activations, filters, gates and gradient flow (no Streamlit here)."""
