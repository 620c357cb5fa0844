"""`mdboard person add`: the team list edited by a command, for those who would rather not open YAML."""

from __future__ import annotations

import click

from mdboard.cli.common import pass_ctx
from mdboard.core.i18n import t


@click.group("person", help=t("people.help_person"))
def person_command():
    pass


@person_command.command("add", help=t("people.help_add"))
@click.argument("name")
@click.option("--key", default=None, help=t("people.opt_key"))
@click.option("--email", "emails", multiple=True, help=t("people.opt_email"))
@click.option("--role", "roles", multiple=True, help=t("people.opt_role"))
@pass_ctx
def add(ctx, name, key, emails, roles):
    from mdboard.domain.people import add_person

    result = add_person(ctx.board, name, key, list(emails), list(roles), ctx.actor(), ctx.no_commit)
    person = result.person
    line = t("people.added", name=person.name, key=person.key)
    click.echo(line + (f"  [{result.commit[:8]}]" if result.commit else ""))
    click.echo(t("people.added_as", name=person.name, key=person.key))
