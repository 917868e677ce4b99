"""One module per `kiosk` command, each with `register(subparsers)`; see kiosk/cli.py."""
