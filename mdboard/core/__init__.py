"""The board as files: everything else stands on this package.

errors (MdboardError and Problem), i18n (the message catalogues in mdboard/locale/),
dates, digest (SHA-1 and SHA-256 without loading OpenSSL), records (plain classes where a
dataclass would cost every command its making at import), text (printable text, "did
you mean", the card-ID pattern and the next free ID), fsutil (atomic writes with the
umask's mode), config (mdboard.yaml; a type's `state_label`), cardfile (the one module
that talks to YAML; edits one key in place), fields (typed values), store (Board: find the root and the repository, scan, cached
parse, find by ID) and workflow (the rules a card must meet, as Problems).
Imports nothing else from mdboard; never decides process-wide things such as
garbage collection (that is the program's entry point, `mdboard.cli.main.run`).
"""
