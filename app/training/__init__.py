"""Training: the `python -m app.training` command (every stage of a bundle) and the page's background jobs."""
