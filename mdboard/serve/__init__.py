"""The site kept live, and the team board: live (watch the board, settle, rebuild through
the builder it is given; builder_process: the site builder in a process of its own, so
rebuilds never hold the server's threads), http (the built site on Starlette + uvicorn, live updates, the
Host check and security headers), team mode (team: actions through domain/ops, accounts,
guard: sessions/CSRF/rate limit, forms, hosts, pages, syncloop), and mcp_server (the board's
actions for an AI assistant over MCP). Imports site and below.
"""
