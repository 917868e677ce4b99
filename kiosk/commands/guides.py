"""`kiosk guides`: import or seed the service-guide catalog, search it as the kiosk does, show one item."""
from __future__ import annotations

import sys
from pathlib import Path

from kiosk.commands._text import _t
from kiosk.commands.base import EXIT_FAILED, EXIT_OK, EXIT_USAGE, add_json, positive_int
from kiosk.core.guides.catalog import CatalogError, GuideCatalog


def register(sub) -> None:
    p = sub.add_parser("guides", help=_t("the service-guide catalog: import, search, show"))
    guides = p.add_subparsers(dest="guides_command", metavar="SUBCOMMAND", title=_t("subcommands"))
    p.set_defaults(handler=lambda ctx: (p.print_help(), 2)[1])

    imp = guides.add_parser("import", help=_t("replace the catalog with FILE (DESIGN.md section 6); "
                                              "a bad file names the item and field, and changes nothing"))
    imp.add_argument("file", metavar="FILE")
    add_json(imp)
    imp.set_defaults(handler=run_import)

    seed = guides.add_parser("seed", help=_t("what the kiosk needs before its UI starts: import [guides] seed_file "
                                             "when there is no catalog yet, and store the search readings of a "
                                             "catalog that lacks them (after an upgrade); safe to run any time"))
    add_json(seed)
    seed.set_defaults(handler=run_seed)

    search = guides.add_parser("search", help=_t("search the items shown on the kiosk, best first"))
    search.add_argument("query", metavar="QUERY", help=_t("Chinese, pinyin (shebao) or initials (sb)"))
    search.add_argument("--limit", type=positive_int, default=20, metavar="N", help=_t("at most N results (default 20)"))
    add_json(search)
    search.set_defaults(handler=run_search)

    show = guides.add_parser("show", help=_t("one item of the catalog, every section"))
    show.add_argument("code", metavar="CODE")
    add_json(show)
    show.set_defaults(handler=run_show)


def _fail(ctx, message: str, code: int = EXIT_FAILED) -> int:
    print(f"kiosk guides {ctx.args.guides_command}: {message}", file=sys.stderr)
    return code


class _Progress:
    """How far the search readings of a catalog have got, on one line of a terminal (a person is
    waiting: pypinyin takes seconds for a city's catalog); nothing when stderr is not a terminal or the
    answer is JSON."""

    def __init__(self):
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        self.shown = True
        print("\r" + _t("search readings: {done} of {total} texts").format(done=done, total=total), end="",
              file=sys.stderr, flush=True)


def _progress(ctx) -> _Progress | None:
    return _Progress() if sys.stderr.isatty() and not ctx.json else None


def _progress_done(show: _Progress | None) -> None:
    if show is not None and show.shown:
        print(file=sys.stderr)


def run_import(ctx) -> int:
    path = Path(ctx.args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:   # the input named is not there or not readable: a usage mistake, as everywhere
        return _fail(ctx, _t("{path}: cannot be read ({reason}); nothing was changed").format(
            path=path, reason=exc.strerror), EXIT_USAGE)
    show = _progress(ctx)
    try:
        info = GuideCatalog(ctx.store).replace(data, source=str(path), progress=show)
    except CatalogError as exc:
        return _fail(ctx, _t("{path}: the catalog was not imported, nothing was changed:").format(path=path) + f"\n{exc}")
    finally:
        _progress_done(show)
    doc = {"version": info.version, "items": info.items, "enabled": info.enabled, "sha256": info.sha256}
    ctx.emit(doc, _t("catalog {version} imported: {items} items, {enabled} shown on the kiosk").format(
        version=info.version, items=info.items, enabled=info.enabled))
    return EXIT_OK


def run_seed(ctx) -> int:
    catalog = GuideCatalog(ctx.store)
    show = _progress(ctx)
    try:
        seeded = catalog.ensure_seeded(ctx.settings, progress=show)
        read = 0 if seeded else catalog.ensure_readings(progress=show)
    except CatalogError as exc:
        return _fail(ctx, str(exc))
    finally:
        _progress_done(show)
    info = catalog.info()
    doc = {"seeded": seeded is not None, "readings_stored": read,
           "version": info.version if info else None, "items": info.items if info else 0}
    if info is None:
        text = _t("no catalog: set [guides] seed_file or import one with `kiosk guides import FILE`")
    elif seeded:
        text = _t("catalog {version} seeded from {source}: {items} items, {enabled} shown").format(
            version=info.version, source=info.source[5:], items=info.items, enabled=info.enabled)
    else:
        text = (_t("catalog {version} kept ({items} items); stored the search readings of {n} texts") if read else
                _t("catalog {version} kept ({items} items)")).format(version=info.version, items=info.items, n=read)
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
        return _fail(ctx, _t("this kiosk has no guide catalog: import one with `kiosk guides import FILE`, "
                             "or set [guides] seed_file"))
    from kiosk.core.guides.search import GuideSearch  # pypinyin loads its dictionaries: only when searching

    result = GuideSearch(catalog).search(ctx.args.query, ctx.args.limit)
    doc = {"query": ctx.args.query, "total": result.total, "version": catalog.version(),
           "results": [{"code": h.code, "name": h.name, "department": h.department, "score": h.score,
                        "matched": h.field} for h in result.hits]}

    def text(d: dict) -> str:
        if not d["results"]:
            return _t("no service matches {query!r}").format(query=d['query'])
        lines = [f"{r['score']:5.1f}  {r['code']}  {r['name']}  ({r['department']}; {r['matched']})"
                 for r in d["results"]]
        more = d["total"] - len(d["results"])
        return "\n".join(lines + ([_t("... {n} more (--limit N)").format(n=more)] if more > 0 else []))
    ctx.emit(doc, text)
    return EXIT_OK


def run_show(ctx) -> int:
    try:
        catalog = _catalog(ctx)
    except CatalogError as exc:
        return _fail(ctx, str(exc))
    item = catalog.get(ctx.args.code, include_disabled=True) if catalog else None
    if item is None:
        return _fail(ctx, _t("no item with code {code!r} in the catalog").format(code=ctx.args.code))
    doc = item.model_dump(mode="json", exclude_none=True)
    ctx.emit(doc, _describe(item))
    return EXIT_OK


def _duration(d) -> str:
    return _t("immediate") if d.unit == "immediate" else f"{d.value} {d.unit.replace('_', ' ')}"


def _describe(item) -> str:
    """The item for a technician at a terminal (the citizen's screens render it themselves)."""
    out = [f"{item.code}  {item.name}", _t("department: {name}").format(name=item.department),
           _t("themes: {themes}   audience: {audience}").format(themes=', '.join(item.themes), audience=item.audience),
           _t("shown on the kiosk: yes") if item.kiosk_enabled else _t("shown on the kiosk: no"), "",
           _t("conditions:"), f"  {item.conditions}", "", _t("materials:")]
    for m in item.materials:
        out.append("  - " + (_t("{name} (required, {form}, copies {copies})") if m.required else
                             _t("{name} (if applicable, {form}, copies {copies})")).format(
                                 name=m.name, form=m.form, copies=m.copies)
                   + (f": {m.notes}" if m.notes else ""))
    out += ["", _t("steps:")] + [f"  {n}. {s.name}: {s.description}" + (f" [{s.time_limit}]" if s.time_limit else "")
                                 for n, s in enumerate(item.steps, 1)]
    out += ["", _t("time limit: legal {legal}, promised {promised}").format(
                legal=_duration(item.time_limit.legal), promised=_duration(item.time_limit.promised)),
            _t("fees: {fees}").format(fees=_t("free") if not item.fees else
                                      "; ".join(f"{f.name} {f.standard}" for f in item.fees)),
            _t("visits: {n}").format(n=item.visits), _t("where: {place}").format(place=item.location),
            _t("hours: {hours}").format(hours=item.hours),
            _t("phone: {phone}   complaints: {complaints}").format(phone=item.phone, complaints=item.complaint_phone)]
    if item.online_url:
        out.append(_t("online: {url}").format(url=item.online_url))
    out += ["", _t("legal basis:")] + [f"  - {b}" for b in item.legal_basis]
    if item.faq:
        out += ["", _t("questions:")] + ["  " + _t("Q: {question}").format(question=f.q) + "\n  "
                                         + _t("A: {answer}").format(answer=f.a) for f in item.faq]
    if item.keywords:
        out += ["", _t("keywords: {words}").format(words=', '.join(item.keywords))]
    return "\n".join(out)
