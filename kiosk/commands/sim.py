"""`kiosk sim serve NAME --listen HOST:PORT`: a built-in device simulator on a TCP port.

A driver then reaches it as `port = "socket://HOST:PORT"` (pyserial's socket
URL), in real time and from another process, exactly as it would reach a
serial-to-Ethernet converter: the same commands work against it as against
`sim://NAME`. One client at a time, like a serial port. The options set the
simulator's starting state (`--card`, `--reader-fault`, `--payment`,
`--answer-delay`, `--scan`). Stops on SIGTERM or Ctrl-C. The simulators are
kiosk/sim/ (this command is one of the few things that may import them).
"""
from __future__ import annotations

import signal
import socket
import sys
import threading

from kiosk.commands._text import _t
from kiosk.commands.base import EXIT_OK, EXIT_USAGE

PUMP_INTERVAL = 0.02


def register(sub) -> None:
    p = sub.add_parser("sim", help=_t("built-in device simulators (serve one over TCP)"))
    actions = p.add_subparsers(dest="sim_command", metavar="ACTION", title=_t("actions"))
    p.set_defaults(handler=lambda ctx: (p.print_help(), EXIT_USAGE)[1], needs_config=False)

    s = actions.add_parser("serve", help=_t("serve simulator NAME over TCP, for drivers configured with socket://HOST:PORT"))
    s.add_argument("name", metavar="NAME", help=_t("idcard, payment, scanner, or any other built-in simulator"))
    s.add_argument("--listen", default="127.0.0.1:7001", metavar="HOST:PORT",
                   help=_t("where to listen (127.0.0.1:7001); port 0 picks a free one"))
    s.add_argument("--card", metavar="KIND", help=_t("idcard: the card on the reader (resident, expired, wrong_check_digit, "
                                                      "long_term, hk_mo_tw, foreign_old, foreign_2023, none)"))
    s.add_argument("--reader-fault", metavar="FAULT", help=_t("idcard: garbage, slow, silent, bad_checksum, noise, "
                                                               "fragmented, bad_length"))
    s.add_argument("--payment", metavar="OUTCOME", help=_t("payment: approve, decline, not_verified, no_answer, "
                                                            "offline, garbled, wrong_reference"))
    s.add_argument("--answer-delay", type=float, metavar="S", help=_t("payment: how long the cardholder takes"))
    s.add_argument("--scan", action="append", default=[], metavar="CODE",
                   help=_t("scanner: a code scanned shortly after each client connects (repeatable)"))
    s.set_defaults(handler=run_serve, needs_config=False)


def _listen_address(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(_t("--listen {value!r} is not HOST:PORT (e.g. 127.0.0.1:7001)").format(value=text))
    return host, int(port)


def _configure(sim, args) -> None:
    if args.card is not None:
        if args.card == "none":
            sim.remove_card()
        else:
            from kiosk.sim.idcard import CARDS

            if args.card not in CARDS:
                raise ValueError(_t("--card {value!r}: known cards are {cards}, none").format(
                    value=args.card, cards=', '.join(CARDS)))
            sim.insert_card(args.card)
    if args.reader_fault is not None:
        sim.set_fault(args.reader_fault)
    if args.payment is not None or args.answer_delay is not None:
        sim.set_outcome(args.payment or sim.outcome, args.answer_delay)


def _serve_client(sim, conn: socket.socket, scans: list[str], stop: threading.Event) -> None:
    closed = threading.Event()

    def upstream():
        try:
            while not stop.is_set():
                data = conn.recv(4096)
                if not data:
                    break
                sim.receive(data)
        except OSError:
            pass
        finally:
            closed.set()

    sim.discard_output()
    for i, code in enumerate(scans):
        sim.scan(code, delay=0.3 + 0.1 * i)
    reader = threading.Thread(target=upstream, name="sim-upstream", daemon=True)
    reader.start()
    try:
        while not (closed.is_set() or stop.is_set()):
            data = sim.take(4096, PUMP_INTERVAL)
            if data:
                conn.sendall(data)
    except OSError:
        pass
    finally:
        conn.close()
        reader.join(1.0)


def run_serve(ctx) -> int:
    from kiosk.hardware.device import DeviceError
    from kiosk.sim import registry

    args = ctx.args
    try:
        host, port = _listen_address(args.listen)
        sim = registry.simulator(args.name)
        wants = {"card": args.card or args.reader_fault, "payment": args.payment is not None or args.answer_delay is not None,
                 "scan": args.scan}
        needed = {"card": "insert_card", "payment": "set_outcome", "scan": "scan"}
        for option, value in wants.items():
            if value and not hasattr(sim, needed[option]):
                raise ValueError(_t("simulator {name!r} has no {option} setting").format(name=args.name, option=option))
        _configure(sim, args)
    except (ValueError, DeviceError) as exc:
        print(f"kiosk sim: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        server = socket.create_server((host, port), reuse_port=False)
    except OSError as exc:
        print(_t("kiosk sim: cannot listen on {host}:{port}: {reason}").format(host=host, port=port, reason=exc.strerror),
              file=sys.stderr)
        return EXIT_USAGE
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    server.settimeout(0.2)
    bound = server.getsockname()
    print(_t("kiosk sim: serving sim://{name} on {host}:{port} (socket://{host}:{port})").format(
        name=args.name, host=bound[0], port=bound[1]), flush=True)
    try:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except socket.timeout:
                continue
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            _serve_client(sim, conn, args.scan, stop)
    finally:
        server.close()
    return EXIT_OK
