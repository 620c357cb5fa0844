"""The static site: builder (full and incremental builds, the manifest), pages (the page
plan), render (jinja2 templates, Markdown, dates, card views), charts (SVG charts and
the timeline), feature_pages (calendar feeds, report and standup pages), slots (pages made
from history, kept with titles as slots), swaps (lists after titles alone changed: the last
build's files with the changed cards' tiles and events swapped), plans (the
overview's big sales, a campaign's plan against actual) and
templates/ (HTML, CSS, script). Imports core, git and domain.
"""
