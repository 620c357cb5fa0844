"""The board as files: everything else stands on this package.

errors (MdboardError and Problem), i18n (the message catalogues in mdboard/locale/),
dates, text (printable text, "did you mean", the card-ID pattern), fsutil (atomic
writes), config (mdboard.yaml), cardfile (the one module that talks to YAML; edits one
key in place), fields (typed values), store (Board: find the root, scan, cached parse,
find by ID) and workflow (the rules a card must meet, as Problems).
Imports nothing else from mdboard.
"""
