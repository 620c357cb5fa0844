"""The `mdboard` command line, the only package that imports click.

main (the group, lazy command loading, `run`), common (the Context, shared options,
--json), output (tables and text), and one module per command family: cards, site,
history, teams, spreadsheet, plans (plan, sales), demo. Each command parses options, makes one library
call and prints the result. builder_child is the program of the site builder's own process (serve, watch).
"""
