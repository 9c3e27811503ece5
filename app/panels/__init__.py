"""One module per panel of the explorer page."""
