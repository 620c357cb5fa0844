"""Browser tests of the built site (chromium via Playwright)."""
