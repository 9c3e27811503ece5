"""The Streamlit explorer app (a thin front over vae_core)."""
