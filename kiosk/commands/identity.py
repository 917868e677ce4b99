"""`kiosk identity`: which kiosk this is, and whether its database came from another one."""
from kiosk.commands.base import EXIT_FAILED, EXIT_OK, add_json


def register(sub) -> None:
    p = sub.add_parser("identity", help="the kiosk id, the database UUID, and a warning when the database was copied")
    add_json(p)
    p.set_defaults(handler=run)


def run(ctx) -> int:
    ident = ctx.store.identity
    doc = {"kiosk_id": ident.kiosk_id, "db_uuid": ident.db_uuid, "created_for": ident.created_for,
           "cloned": ident.cloned, "problems": ident.problems}
    lines = [f"kiosk {ident.kiosk_id}", f"database {ident.db_uuid} ({ctx.store.path})"]
    lines += [f"WARNING: {p}" for p in ident.problems]
    ctx.emit(doc, "\n".join(lines))
    return EXIT_FAILED if ident.cloned else EXIT_OK
