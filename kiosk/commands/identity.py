"""`kiosk identity`: which kiosk this is, and whether its database came from another one."""
from kiosk.commands._text import _t
from kiosk.commands.base import EXIT_FAILED, EXIT_OK, add_json


def register(sub) -> None:
    p = sub.add_parser("identity", help=_t("the kiosk id, the database UUID, and a warning when the database was copied"))
    add_json(p)
    p.set_defaults(handler=run)


def run(ctx) -> int:
    ident = ctx.store.identity
    doc = {"kiosk_id": ident.kiosk_id, "db_uuid": ident.db_uuid, "created_for": ident.created_for,
           "cloned": ident.cloned, "problems": ident.problems}
    lines = [_t("kiosk {id}").format(id=ident.kiosk_id),
             _t("database {uuid} ({path})").format(uuid=ident.db_uuid, path=ctx.store.path)]
    lines += [_t("WARNING: {problem}").format(problem=p) for p in ident.problems]
    ctx.emit(doc, "\n".join(lines))
    return EXIT_FAILED if ident.cloned else EXIT_OK
