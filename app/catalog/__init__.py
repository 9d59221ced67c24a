"""What the app serves: every model in the store by key, user bundles (owner, sharing), model cards."""
