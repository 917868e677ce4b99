"""`kiosk guides`: import or seed the service-guide catalog, search it as the kiosk does, show one item."""
from __future__ import annotations

import sys
from pathlib import Path

from kiosk.commands.base import EXIT_FAILED, EXIT_OK, EXIT_USAGE, add_json, positive_int
from kiosk.core.guides.catalog import CatalogError, GuideCatalog


def register(sub) -> None:
    p = sub.add_parser("guides", help="the service-guide catalog: import, search, show")
    guides = p.add_subparsers(dest="guides_command", metavar="SUBCOMMAND", title="subcommands")
    p.set_defaults(handler=lambda ctx: (p.print_help(), 2)[1])

    imp = guides.add_parser("import", help="replace the catalog with FILE (DESIGN.md section 6); "
                                           "a bad file names the item and field, and changes nothing")
    imp.add_argument("file", metavar="FILE")
    add_json(imp)
    imp.set_defaults(handler=run_import)

    seed = guides.add_parser("seed", help="what the kiosk needs before its UI starts: import [guides] seed_file "
                                          "when there is no catalog yet, and store the search readings of a "
                                          "catalog that lacks them (after an upgrade); safe to run any time")
    add_json(seed)
    seed.set_defaults(handler=run_seed)

    search = guides.add_parser("search", help="search the items shown on the kiosk, best first")
    search.add_argument("query", metavar="QUERY", help="Chinese, pinyin (shebao) or initials (sb)")
    search.add_argument("--limit", type=positive_int, default=20, metavar="N", help="at most N results (default 20)")
    add_json(search)
    search.set_defaults(handler=run_search)

    show = guides.add_parser("show", help="one item of the catalog, every section")
    show.add_argument("code", metavar="CODE")
    add_json(show)
    show.set_defaults(handler=run_show)


def _fail(ctx, message: str, code: int = EXIT_FAILED) -> int:
    print(f"kiosk guides {ctx.args.guides_command}: {message}", file=sys.stderr)
    return code


def run_import(ctx) -> int:
    path = Path(ctx.args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:   # the input named is not there or not readable: a usage mistake, as everywhere
        return _fail(ctx, f"{path}: cannot be read ({exc.strerror}); nothing was changed", EXIT_USAGE)
    try:
        info = GuideCatalog(ctx.store).replace(data, source=str(path))
    except CatalogError as exc:
        return _fail(ctx, f"{path}: the catalog was not imported, nothing was changed:\n{exc}")
    doc = {"version": info.version, "items": info.items, "enabled": info.enabled, "sha256": info.sha256}
    ctx.emit(doc, f"catalog {info.version} imported: {info.items} items, {info.enabled} shown on the kiosk")
    return EXIT_OK


def run_seed(ctx) -> int:
    catalog = GuideCatalog(ctx.store)
    try:
        seeded = catalog.ensure_seeded(ctx.settings)
        read = 0 if seeded else catalog.ensure_readings()
    except CatalogError as exc:
        return _fail(ctx, str(exc))
    info = catalog.info()
    doc = {"seeded": seeded is not None, "readings_stored": read,
           "version": info.version if info else None, "items": info.items if info else 0}
    if info is None:
        text = "no catalog: set [guides] seed_file or import one with `kiosk guides import FILE`"
    elif seeded:
        text = f"catalog {info.version} seeded from {info.source[5:]}: {info.items} items, {info.enabled} shown"
    else:
        text = (f"catalog {info.version} kept ({info.items} items)"
                + (f"; stored the search readings of {read} texts" if read else ""))
    ctx.emit(doc, text)
    return EXIT_OK


def _catalog(ctx) -> GuideCatalog | None:
    """The kiosk's catalog, seeded from [guides] seed_file on first use (as the kiosk does)."""
    catalog = GuideCatalog(ctx.store)
    catalog.ensure_seeded(ctx.settings)
    return catalog if catalog.version() is not None else None


def run_search(ctx) -> int:
    try:
        catalog = _catalog(ctx)
    except CatalogError as exc:
        return _fail(ctx, str(exc))
    if catalog is None:
        return _fail(ctx, "this kiosk has no guide catalog: import one with `kiosk guides import FILE`, "
                          "or set [guides] seed_file")
    from kiosk.core.guides.search import GuideSearch  # pypinyin loads its dictionaries: only when searching

    result = GuideSearch(catalog).search(ctx.args.query, ctx.args.limit)
    doc = {"query": ctx.args.query, "total": result.total, "version": catalog.version(),
           "results": [{"code": h.code, "name": h.name, "department": h.department, "score": h.score,
                        "matched": h.field} for h in result.hits]}

    def text(d: dict) -> str:
        if not d["results"]:
            return f"no service matches {d['query']!r}"
        lines = [f"{r['score']:5.1f}  {r['code']}  {r['name']}  ({r['department']}; {r['matched']})"
                 for r in d["results"]]
        more = d["total"] - len(d["results"])
        return "\n".join(lines + ([f"... {more} more (--limit N)"] if more > 0 else []))
    ctx.emit(doc, text)
    return EXIT_OK


def run_show(ctx) -> int:
    try:
        catalog = _catalog(ctx)
    except CatalogError as exc:
        return _fail(ctx, str(exc))
    item = catalog.get(ctx.args.code, include_disabled=True) if catalog else None
    if item is None:
        return _fail(ctx, f"no item with code {ctx.args.code!r} in the catalog")
    doc = item.model_dump(mode="json", exclude_none=True)
    ctx.emit(doc, _describe(item))
    return EXIT_OK


def _duration(d) -> str:
    return "immediate" if d.unit == "immediate" else f"{d.value} {d.unit.replace('_', ' ')}"


def _describe(item) -> str:
    """The item for a technician at a terminal (the citizen's screens render it themselves)."""
    out = [f"{item.code}  {item.name}", f"department: {item.department}",
           f"themes: {', '.join(item.themes)}   audience: {item.audience}",
           f"shown on the kiosk: {'yes' if item.kiosk_enabled else 'no'}", "", "conditions:", f"  {item.conditions}",
           "", "materials:"]
    for m in item.materials:
        out.append(f"  - {m.name} ({'required' if m.required else 'if applicable'}, {m.form}, copies {m.copies})"
                   + (f": {m.notes}" if m.notes else ""))
    out += ["", "steps:"] + [f"  {n}. {s.name}: {s.description}" + (f" [{s.time_limit}]" if s.time_limit else "")
                             for n, s in enumerate(item.steps, 1)]
    out += ["", f"time limit: legal {_duration(item.time_limit.legal)}, promised {_duration(item.time_limit.promised)}",
            "fees: " + ("free" if not item.fees else "; ".join(f"{f.name} {f.standard}" for f in item.fees)),
            f"visits: {item.visits}", f"where: {item.location}", f"hours: {item.hours}",
            f"phone: {item.phone}   complaints: {item.complaint_phone}"]
    if item.online_url:
        out.append(f"online: {item.online_url}")
    out += ["", "legal basis:"] + [f"  - {b}" for b in item.legal_basis]
    if item.faq:
        out += ["", "questions:"] + [f"  Q: {f.q}\n  A: {f.a}" for f in item.faq]
    if item.keywords:
        out += ["", f"keywords: {', '.join(item.keywords)}"]
    return "\n".join(out)
