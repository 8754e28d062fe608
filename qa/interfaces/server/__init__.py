"""`qa serve`: the HTTP API and web page over an index (needs the `serve` extra)."""
