"""What a team does with its board, as library calls the CLI and the site share:
ops (new, move, set, assign, edit; who is acting: `resolve_actor`, `person_key`),
views (mine, due, filters, a card as JSON), report, standup, calendar (iCalendar
feeds), schema (JSON Schemas), spreadsheet (CSV import/export), playbooks (活动打法
files and their checks), plans (`mdboard plan`, rollover, plan against actual), sales
(the big-sale calendar), boardfiles (reading those data files), init (a new board,
CI workflows) and demo (the demo board with history). Imports mdboard.core and
mdboard.git; never prints, never imports click.
"""
