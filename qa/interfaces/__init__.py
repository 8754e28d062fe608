"""The ways in: the `qa` command, the HTTP API and web page, the MCP server; each parses a
request, calls the library, and renders its result."""
