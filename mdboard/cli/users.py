"""`mdboard user …`: the people who may sign in to the team board (`mdboard serve --team`).

Accounts are the roster's people (`people` in mdboard.yaml); see `serve/accounts.py`
for where they are kept and how. `add` and `link` print a one-time sign-in link to
send to the person (in the team's chat); `password` sets a password for those who
prefer one. Passwords are asked for twice and never taken from the command line.
"""

from __future__ import annotations

import click

from mdboard.cli.common import pass_ctx
from mdboard.core.errors import MdboardError, parenthesized
from mdboard.core.i18n import t

DEFAULT_URL = "http://127.0.0.1:8000/"


@click.group("user", help=t("web.help_user"))
def user_command():
    pass


def _person(ctx, name: str):
    """The roster person `name` means (key or name), or MdboardError with a suggestion."""
    from mdboard.core.text import suggest

    cfg = ctx.board.config
    person = cfg.find_person(name)
    if person is None:
        raise MdboardError(parenthesized(t("web.not_in_roster", value=name),
                                         suggest(name, [p.name for p in cfg.people.values()])))
    return person


def _accounts(ctx):
    from mdboard.serve.accounts import Accounts

    return Accounts(ctx.board.root)


def _print_link(accounts, person, url: str | None) -> None:
    from mdboard.serve.accounts import LINK_DAYS, remembered_url

    token = accounts.new_link(person.key)
    base = (url or remembered_url(accounts.folder) or DEFAULT_URL).rstrip("/")
    click.echo(t("web.user_link", name=person.name, days=LINK_DAYS))
    click.echo(f"  {base}/__mdboard/signin/{token}")
    if not url:
        click.echo(t("web.user_link_url_hint"))


def _url_option(f):
    return click.option("--url", default=None, metavar="URL", help=t("web.opt_url"))(f)


def _ask_password(person) -> str:
    first = click.prompt(t("web.prompt_password", name=person.name), hide_input=True)
    again = click.prompt(t("web.prompt_again"), hide_input=True)
    if first != again:
        raise MdboardError(t("web.password_mismatch"))
    return first


@user_command.command("add", help=t("web.help_user_add"))
@click.argument("person")
@click.option("--password", "with_password", is_flag=True, help=t("web.opt_password"))
@_url_option
@pass_ctx
def add_command(ctx, person, with_password, url):
    found = _person(ctx, person)
    accounts = _accounts(ctx)
    made = accounts.add(found.key)
    click.echo(t("web.user_added" if made else "web.user_exists", name=found.name))
    if with_password:
        accounts.set_password(found.key, _ask_password(found))
        click.echo(t("web.password_set_cli", name=found.name))
    _print_link(accounts, found, url)


@user_command.command("link", help=t("web.help_user_link"))
@click.argument("person")
@_url_option
@pass_ctx
def link_command(ctx, person, url):
    found = _person(ctx, person)
    _print_link(_accounts(ctx), found, url)


@user_command.command("password", help=t("web.help_user_password"))
@click.argument("person")
@pass_ctx
def password_command(ctx, person):
    found = _person(ctx, person)
    accounts = _accounts(ctx)
    if accounts.get(found.key) is None:
        raise MdboardError(t("web.no_account", person=found.name))
    accounts.set_password(found.key, _ask_password(found))
    click.echo(t("web.password_set_cli", name=found.name))


@user_command.command("signout", help=t("web.help_user_signout"))
@click.argument("person")
@pass_ctx
def signout_command(ctx, person):
    found = _person(ctx, person)
    _accounts(ctx).sign_out_everywhere(found.key)
    click.echo(t("web.signed_out_everywhere", name=found.name))


@user_command.command("remove", help=t("web.help_user_remove"))
@click.argument("person")
@pass_ctx
def remove_command(ctx, person):
    cfg = ctx.board.config
    found = cfg.find_person(person)
    key = found.key if found else person
    name = found.name if found else person
    if not _accounts(ctx).remove(key):
        raise MdboardError(t("web.user_missing", name=name))
    click.echo(t("web.user_removed", name=name))


@user_command.command("list", help=t("web.help_user_list"))
@pass_ctx
def list_command(ctx):
    accounts = _accounts(ctx)
    people = accounts.people()
    if not people:
        click.echo(t("web.user_none"))
    cfg = ctx.board.config
    for key, account in people.items():
        row = "web.user_row_password" if account.password else "web.user_row_link"
        click.echo(t(row, name=cfg.person_name(key), key=key))
    click.echo(t("web.user_where", path=accounts.path), err=True)
