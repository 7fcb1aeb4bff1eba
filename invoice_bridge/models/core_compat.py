"""What differs between Odoo 18.0 and 19.0, asked of the running Odoo (never of its version number).

The one place that knows both: models, tests and the security data call these helpers and stay the same code.
"""
import importlib

from odoo import models


class _SqlConstraint:
    """Odoo 18's stand-in for 19's ``models.Constraint``: ``_<name> = Constraint(definition, message)`` in a
    model class adds ``(name, definition, message)`` to that class's own ``_sql_constraints``, so the
    database constraint is ``<table>_<name>`` on both versions."""

    def __init__(self, definition, message=""):
        self.definition = definition
        self.message = message

    def __set_name__(self, owner, name):
        own = owner.__dict__.get("_sql_constraints", [])
        owner._sql_constraints = [*own, (name[1:], self.definition, self.message)]


#: ``models.Constraint`` where it exists (19.0), ``_sql_constraints`` otherwise (18.0); same database names
Constraint = getattr(models, "Constraint", _SqlConstraint)

#: how many rows Odoo's flush writes per ``UPDATE`` (``odoo.models`` on 18.0, ``odoo.orm.models`` on 19.0)
UPDATE_BATCH_SIZE = getattr(models, "UPDATE_BATCH_SIZE", None) or importlib.import_module(
    "odoo.orm.models").UPDATE_BATCH_SIZE


def field_name(model, *names):
    """The first of ``names`` that ``model`` has (e.g. ``group_ids`` on 19, ``groups_id`` on 18)."""
    found = next((name for name in names if name in model._fields), None)
    if found is None:
        raise KeyError(f"{model._name} has none of the fields {names}")
    return found


def cron_progress(env, done):
    """Tell the running scheduled action that ``done`` items are processed and none remain (nothing outside a
    scheduled action). 19's ``_commit_progress`` where it exists (it commits: the job's work is done by then),
    18's ``_notify_progress`` otherwise."""
    if not env.context.get("ir_cron_progress_id"):
        return
    cron = env["ir.cron"]
    if hasattr(cron, "_commit_progress"):
        cron._commit_progress(done, remaining=0)
    else:
        cron._notify_progress(done=done, remaining=0)


def edi_files(move, attachments):
    """The files data Odoo's e-invoice import reads from ``attachments`` (their embedded XMLs unwrapped): 18's
    ``ir.attachment._unwrap_edi_attachments``, 19's document import mixin of ``account.move`` otherwise."""
    if hasattr(attachments, "_unwrap_edi_attachments"):
        return attachments._unwrap_edi_attachments()
    files = move._to_files_data(attachments)
    return files + move._unwrap_attachments(files)


def edi_import(move, attachments):
    """Fill ``move`` from ``attachments`` with Odoo's own e-invoice import (18 takes attachments, 19 files data)."""
    if hasattr(attachments, "_unwrap_edi_attachments"):
        move._extend_with_attachments(attachments, new=False)
    else:
        move._extend_with_attachments(edi_files(move, attachments), new=False)
