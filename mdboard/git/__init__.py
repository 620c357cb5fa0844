"""Everything that runs git. runner: the one way a git process is started (with the
repository's hooks and fsmonitor off, so a clone's configuration runs nothing during
mdboard's commands); changes (the board lock, the redo journal, one commit naming only
the card's paths); history (one streamed `git log` pass -> per-card events); sync (with
a shared remote); hooks (the pre-commit check). Finding the repository is
`core.store.find_repo` (on disk, no git process). Imports only mdboard.core.
"""
