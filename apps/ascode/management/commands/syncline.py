"""`manage.py syncline export | validate | plan | apply | schema`: a workspace's syncs as code (README,
"Syncs as code"). Exit codes: 0 done (plan: no changes), 1 an error, 2 plan found changes."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.ascode.apply import StalePlan, apply
from apps.ascode.document import KINDS, Document, DocumentInvalid, read
from apps.ascode.plan import CREATE, DELETE, UPDATE, make_plan, sync_config_problems
from apps.ascode.schema import VERSION, document_schema, schema_url
from apps.ascode.state import desired_state, export_document
from apps.ascode.yamlio import dump
from apps.tenancy.audit import audit_as
from apps.tenancy.models import AuditVia, Membership, Role, User, Workspace

PLAN_HAS_CHANGES = 2


def schema_header() -> str:
    return f"# yaml-language-server: $schema={schema_url()}\n"


class Command(BaseCommand):
    help = "Syncs as code: export a workspace to YAML, validate, plan and apply files."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        export = actions.add_parser("export", help="Write a workspace as syncline/v1 YAML.")
        export.add_argument("workspace", help="The workspace's slug.")
        export.add_argument(
            "--output", "-o", help="A file, or a folder (one file per kind of object). Default: stdout."
        )
        validate = actions.add_parser("validate", help="Check files without the database.")
        validate.add_argument("path")
        for name, text in (
            ("plan", "Show what apply would change (exit 2 when there are changes)."),
            ("apply", "Make the workspace match the files, in one transaction."),
        ):
            sub = actions.add_parser(name, help=text)
            sub.add_argument("path", help="A .yml file or a folder of them.")
            sub.add_argument("--workspace", help="The workspace's slug (overrides the files' `workspace`).")
            if name == "apply":
                sub.add_argument(
                    "--expect", help="The fingerprint plan printed: refuse if the workspace changed."
                )
                sub.add_argument("--user", help="Email of the member applying (an editor or owner).")
        schema = actions.add_parser("schema", help="Write the JSON Schema of the format.")
        schema.add_argument("--output", "-o", help="A file. Default: stdout.")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            getattr(self, f"do_{action}")(options)
        except DocumentInvalid as invalid:
            count = len(invalid.problems)
            what = "1 problem" if count == 1 else f"{count} problems"
            outcome = ", nothing was changed" if action == "apply" else ""
            raise CommandError(f"{what}{outcome}:\n{invalid}") from None
        except StalePlan as stale:
            raise CommandError(str(stale)) from None

    # --- actions ---------------------------------------------------------------------------------

    def do_export(self, options: dict[str, Any]) -> None:
        workspace = _workspace(options["workspace"])
        document = export_document(workspace)
        output = options.get("output")
        if output and (Path(output).is_dir() or output.endswith("/")):
            folder = Path(output)
            folder.mkdir(parents=True, exist_ok=True)
            head = {"version": VERSION, "workspace": workspace.slug}
            parts = {kind: head | {kind: document[kind]} for kind in KINDS}
            if "alerts" in document:
                parts["alerts"] = head | {"alerts": document["alerts"]}
            for kind, part in parts.items():
                (folder / f"{kind}.yml").write_text(dump(part, header=schema_header()), encoding="utf-8")
            self.stderr.write(f"Wrote {len(parts)} files to {folder}")
        elif output:
            Path(output).write_text(dump(document, header=schema_header()), encoding="utf-8")
            self.stderr.write(f"Wrote {output}")
        else:
            self.stdout.write(dump(document, header=schema_header()), ending="")

    def do_validate(self, options: dict[str, Any]) -> None:
        document = read(Path(options["path"]))
        desired = desired_state(document, read_environment=False)  # plan and apply read the variables
        problems = desired.problems + sync_config_problems(document, desired, {})
        if problems:
            raise DocumentInvalid(problems)
        counts = ", ".join(f"{len(document.objects[kind])} {kind}" for kind in KINDS)
        files = "1 file" if len(document.files) == 1 else f"{len(document.files)} files"
        self.stdout.write(f"Valid: {counts} ({files}).")

    def do_plan(self, options: dict[str, Any]) -> None:
        document = read(Path(options["path"]))
        plan = make_plan(document, _target(document, options.get("workspace")))
        self.stdout.write(plan.text())
        if plan.changes:
            sys.stdout.flush()
            raise SystemExit(PLAN_HAS_CHANGES)

    def do_apply(self, options: dict[str, Any]) -> None:
        document = read(Path(options["path"]))
        workspace = _target(document, options.get("workspace"))
        user = _member(workspace, options.get("user"))
        with audit_as(via=AuditVia.APPLY, user=user, label=user.email if user else "syncline apply"):
            plan = apply(document, workspace, user=user, expect=options.get("expect"))
        if not plan.changes:
            self.stdout.write(plan.text())
            return
        changes = plan.text().rsplit("\n\n", 1)[0]  # without the summary and the --expect hint
        counts = {
            action: sum(1 for c in plan.changes if c.action == action) for action in (CREATE, UPDATE, DELETE)
        }
        self.stdout.write(
            f"{changes}\n\nApplied: {counts[CREATE]} created, {counts[UPDATE]} changed, {counts[DELETE]} deleted."
        )

    def do_schema(self, options: dict[str, Any]) -> None:
        text = json.dumps(document_schema(), indent=2, ensure_ascii=False) + "\n"
        if options.get("output"):
            Path(options["output"]).write_text(text, encoding="utf-8")
        else:
            self.stdout.write(text, ending="")


def _workspace(slug: str) -> Workspace:
    workspace = Workspace.objects.filter(slug=slug).first()
    if workspace is None:
        raise CommandError(f"There is no workspace “{slug}” (give its slug, as in /w/<slug>/).")
    return workspace


def _target(document: Document, flag: str | None) -> Workspace:
    slug = flag or document.workspace
    if not slug:
        raise CommandError("Which workspace? Give `workspace: <slug>` in the files or --workspace <slug>.")
    return _workspace(slug)


def _member(workspace: Workspace, email: str | None) -> User | None:
    if not email:
        return None
    membership = (
        Membership.objects.for_workspace(workspace)
        .select_related("user")
        .filter(user__email__iexact=email)
        .first()
    )
    if membership is None or not membership.can(Role.EDITOR):
        raise CommandError(f"{email} is not an editor or owner of the workspace “{workspace.slug}”.")
    return membership.user
