"""Everything that runs git: changes (the board lock, the redo journal, one commit naming
only the card's paths), history (one streamed `git log` pass -> per-card events), sync
(with a shared remote) and hooks (the pre-commit check). Imports only mdboard.core.
"""
