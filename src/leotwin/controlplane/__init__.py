"""The control plane: an HTTP API over a durable store, with roles and an audit trail."""
